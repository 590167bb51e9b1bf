package marks

import (
	"context"
	"fmt"
)

// ReleaseUnfinished gives back every mark still being processed and reports
// how many. Call it when the one process that handles this database's
// deliveries starts: marks left processing were held by its previous run,
// which is gone (killed mid-handler), and their deliveries are due again —
// the bus clears its own leases the same way. Without it a redelivery meets
// the dead run's lease (events.DefaultLease, minutes) and exhausts its
// retries against it.
func (s *Store) ReleaseUnfinished(ctx context.Context) (int64, error) {
	s.lock.Lock()
	defer s.lock.Unlock()
	res, err := s.db.ExecContext(ctx, `DELETE FROM handler_marks WHERE state = 'processing'`)
	if err != nil {
		return 0, fmt.Errorf("marks: release unfinished: %w", err)
	}
	return res.RowsAffected()
}
