package localsfn

import (
	"encoding/json"
	"sync"
	"time"
)

// Event is one execution history event, shaped like the Step Functions
// GetExecutionHistory API's HistoryEvent: the type decides the name of the
// details field (stateEnteredEventDetails, taskFailedEventDetails, …).
type Event struct {
	ID              int64          `json:"id"`
	PreviousEventID int64          `json:"previousEventId"`
	Timestamp       time.Time      `json:"timestamp"`
	Type            string         `json:"type"`
	DetailsKey      string         `json:"-"`
	Details         map[string]any `json:"-"`
}

// MarshalJSON writes the event with its details under AWS's field name.
func (e Event) MarshalJSON() ([]byte, error) {
	m := map[string]any{
		"id":              e.ID,
		"previousEventId": e.PreviousEventID,
		"timestamp":       e.Timestamp.UTC().Format(time.RFC3339Nano),
		"type":            e.Type,
	}
	if e.DetailsKey != "" {
		m[e.DetailsKey] = e.Details
	}
	return json.Marshal(m)
}

// UnmarshalJSON reads what MarshalJSON wrote.
func (e *Event) UnmarshalJSON(data []byte) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(data, &m); err != nil {
		return err
	}
	var ts string
	for k, v := range m {
		var err error
		switch k {
		case "id":
			err = json.Unmarshal(v, &e.ID)
		case "previousEventId":
			err = json.Unmarshal(v, &e.PreviousEventID)
		case "timestamp":
			err = json.Unmarshal(v, &ts)
		case "type":
			err = json.Unmarshal(v, &e.Type)
		default:
			e.DetailsKey = k
			err = json.Unmarshal(v, &e.Details)
		}
		if err != nil {
			return err
		}
	}
	t, err := time.Parse(time.RFC3339Nano, ts)
	e.Timestamp = t
	return err
}

// history numbers events for one execution and, when recording, keeps them.
// Event ids are assigned even when nothing is recorded (EXPRESS), because
// AWS's error causes cite the id at which a state was entered.
type history struct {
	mu     sync.Mutex
	next   int64
	record bool
	// events are the recorded events; for a durable execution only those
	// not yet written to the database, so memory stays small.
	events []Event
}

// thread is one line of execution (the machine, a branch, an iteration):
// each event's previousEventId is the last event of its thread.
type thread struct {
	last int64
	// child is the history of a DISTRIBUTED Map's child execution this
	// thread runs in (nil: the execution's own).
	child *history
}

// of is the history the thread's events go to.
func (h *history) of(th *thread) *history {
	if th.child != nil {
		return th.child
	}
	return h
}

func (h *history) add(th *thread, now time.Time, typ, key string, details func() map[string]any) int64 {
	h = h.of(th)
	h.mu.Lock()
	defer h.mu.Unlock()
	h.next++
	id := h.next
	if h.record {
		ev := Event{ID: id, PreviousEventID: th.last, Timestamp: now, Type: typ, DetailsKey: key}
		if details != nil {
			ev.Details = details()
		}
		h.events = append(h.events, ev)
	}
	th.last = id
	return id
}

// addAfter records an event whose previousEventId is prev rather than the
// thread's last event; the thread's next event follows it.
func (h *history) addAfter(th *thread, prev int64, now time.Time, typ, key string, details func() map[string]any) int64 {
	h = h.of(th)
	h.mu.Lock()
	defer h.mu.Unlock()
	h.next++
	id := h.next
	if h.record {
		ev := Event{ID: id, PreviousEventID: prev, Timestamp: now, Type: typ, DetailsKey: key}
		if details != nil {
			ev.Details = details()
		}
		h.events = append(h.events, ev)
	}
	th.last = id
	return id
}

// follow makes the thread's next event follow event id.
func (h *history) follow(th *thread, id int64) {
	h = h.of(th)
	h.mu.Lock()
	defer h.mu.Unlock()
	th.last = id
}

// last is the thread's last event id.
func (h *history) last(th *thread) int64 {
	h = h.of(th)
	h.mu.Lock()
	defer h.mu.Unlock()
	return th.last
}

func (h *history) snapshot() []Event {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]Event(nil), h.events...)
}

// takeUnflushed hands the events not yet persisted to the caller, which
// writes them; if the write fails they are put back with putBack.
func (h *history) takeUnflushed() []Event {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := h.events
	h.events = nil
	return out
}

func (h *history) putBack(events []Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.events = append(events, h.events...)
}

func (h *history) lastID() int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.next
}

// bump assigns the next event id without recording an event.
func (h *history) bump(th *thread) int64 {
	h = h.of(th)
	h.mu.Lock()
	defer h.mu.Unlock()
	h.next++
	th.last = h.next
	return h.next
}
