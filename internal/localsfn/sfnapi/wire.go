package sfnapi

import (
	"strconv"
	"strings"
	"time"
)

// epoch is a timestamp as awsJson1_0 writes one: seconds since the epoch,
// with milliseconds.
type epoch time.Time

// MarshalJSON writes the seconds as a JSON number.
func (t epoch) MarshalJSON() ([]byte, error) {
	ms := time.Time(t).UnixMilli()
	return []byte(strconv.FormatFloat(float64(ms)/1000, 'f', 3, 64)), nil
}

// stamp returns a pointer for an optional timestamp field (nil when zero).
func stamp(t time.Time) *epoch {
	if t.IsZero() {
		return nil
	}
	e := epoch(t)
	return &e
}

// dataDetails is inputDetails/outputDetails of DescribeExecution.
type dataDetails struct {
	Included bool `json:"included"`
}

// checkARN refuses what is not a Step Functions ARN of one of the given
// resource types, with AWS's InvalidArn wording.
func checkARN(field, arn string, types ...string) error {
	var v validation
	v.required(field, arn != "")
	v.length(field, arn, 1, 2048)
	if err := v.err(); err != nil {
		return err
	}
	parts := strings.Split(arn, ":")
	if len(parts) < 7 || parts[0] != "arn" || parts[2] != "states" {
		return &apiError{Type: "InvalidArn", Message: "Invalid Arn: 'Invalid ARN prefix: " + clip(arn) + "'"}
	}
	typ := parts[5]
	want := map[string]int{"stateMachine": 7, "execution": 8, "express": 9}
	for _, t := range types {
		if t == typ && len(parts) == want[t] && parts[len(parts)-1] != "" {
			return nil
		}
	}
	for _, t := range types {
		if t == typ {
			return &apiError{Type: "InvalidArn", Message: "Invalid Arn: 'Resource name not valid: " + clip(arn) + "'"}
		}
	}
	return &apiError{Type: "InvalidArn", Message: "Invalid Arn: 'Resource type not valid in this context: " + typ + "'"}
}
