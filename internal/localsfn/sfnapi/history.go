package sfnapi

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/sbalswa/ai3-mvp/internal/localsfn"
)

func (s *Server) getExecutionHistory(r *http.Request, body []byte) (any, error) {
	var in struct {
		executionRequest
		pageRequest
		ReverseOrder         bool  `json:"reverseOrder"`
		IncludeExecutionData *bool `json:"includeExecutionData"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := in.executionRequest.check(); err != nil {
		return nil, err
	}
	if err := in.pageRequest.check(1000); err != nil {
		return nil, err
	}
	q := localsfn.HistoryQuery{Limit: in.limit(100), Reverse: in.ReverseOrder}
	if in.NextToken != "" {
		key, err := decodeToken(in.NextToken)
		if err != nil {
			return nil, err
		}
		dir, id, _ := strings.Cut(key, ":")
		n, perr := strconv.ParseInt(id, 10, 64)
		if perr != nil || n <= 0 || dir != direction(in.ReverseOrder) {
			return nil, &apiError{Type: "InvalidToken", Message: "Invalid Token: 'Invalid nextToken'"}
		}
		q.After = n
	}
	events, more, err := s.ex.ExecutionHistoryPage(r.Context(), in.ExecutionArn, q)
	if err != nil {
		return nil, toAPIError(err, in.ExecutionArn)
	}
	withData := in.IncludeExecutionData == nil || *in.IncludeExecutionData
	out := make([]map[string]any, 0, len(events))
	for _, ev := range events {
		out = append(out, EventDocument(ev, withData))
	}
	next := ""
	if more && len(events) > 0 {
		next = encodeToken(direction(in.ReverseOrder) + ":" + strconv.FormatInt(events[len(events)-1].ID, 10))
	}
	return withToken(map[string]any{"events": out}, next), nil
}

func direction(reverse bool) string {
	if reverse {
		return "r"
	}
	return "f"
}

// EventDocument is a history event as GetExecutionHistory answers it
// (timestamp in epoch seconds). Without execution data, the input and
// output of the event's details are left out, as AWS does with
// includeExecutionData false.
func EventDocument(ev localsfn.Event, withData bool) map[string]any {
	doc := map[string]any{
		"id":              ev.ID,
		"previousEventId": ev.PreviousEventID,
		"timestamp":       epoch(ev.Timestamp),
		"type":            ev.Type,
	}
	if ev.DetailsKey != "" {
		details := ev.Details
		if !withData {
			details = make(map[string]any, len(ev.Details))
			for k, v := range ev.Details {
				if k != "input" && k != "output" {
					details[k] = v
				}
			}
		}
		if details == nil {
			details = map[string]any{}
		}
		doc[ev.DetailsKey] = details
	}
	return doc
}
