package jobs

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/sbalswa/ai3-mvp/internal/jobs"
)

const (
	// MaxBody is the most bytes a stored job body (JSON, or gzipped JSON)
	// may take: DynamoDB's 400 KB item limit less room for the keys and
	// index attributes (a few hundred bytes) and attribute names.
	MaxBody = 390 << 10
	// compressAbove is the JSON size over which a body is gzipped. Smaller
	// bodies stay readable in the console and would save at most a few
	// write units.
	compressAbove = 8 << 10
)

// ErrTooLarge is the failure of a Create or Update whose job does not fit in
// one DynamoDB item even compressed (see MaxBody).
var ErrTooLarge = errors.New("job too large for a DynamoDB item")

// encode returns the attribute that stores j: body (JSON) or body_gz.
func encode(j *jobs.Job) (string, types.AttributeValue, error) {
	b, err := json.Marshal(j)
	if err != nil {
		return "", nil, err
	}
	if len(b) <= compressAbove {
		return attrBody, &types.AttributeValueMemberS{Value: string(b)}, nil
	}
	var z bytes.Buffer
	w := gzip.NewWriter(&z)
	if _, err := w.Write(b); err != nil {
		return "", nil, err
	}
	if err := w.Close(); err != nil {
		return "", nil, err
	}
	if z.Len() > MaxBody {
		return "", nil, fmt.Errorf("%w: %d bytes of JSON, %d gzipped, over %d", ErrTooLarge, len(b), z.Len(), MaxBody)
	}
	return attrBodyGzip, &types.AttributeValueMemberB{Value: z.Bytes()}, nil
}

// decode reads the job an item stores.
func decode(it map[string]types.AttributeValue) (*jobs.Job, error) {
	var b []byte
	switch {
	case it[attrBody] != nil:
		s, ok := it[attrBody].(*types.AttributeValueMemberS)
		if !ok {
			return nil, fmt.Errorf("corrupt job record: %s is not a string", attrBody)
		}
		b = []byte(s.Value)
	case it[attrBodyGzip] != nil:
		z, ok := it[attrBodyGzip].(*types.AttributeValueMemberB)
		if !ok {
			return nil, fmt.Errorf("corrupt job record: %s is not binary", attrBodyGzip)
		}
		r, err := gzip.NewReader(bytes.NewReader(z.Value))
		if err != nil {
			return nil, fmt.Errorf("corrupt job record: %w", err)
		}
		if b, err = io.ReadAll(r); err != nil {
			return nil, fmt.Errorf("corrupt job record: %w", err)
		}
	default:
		return nil, fmt.Errorf("corrupt job record: neither %s nor %s", attrBody, attrBodyGzip)
	}
	var j jobs.Job
	if err := json.Unmarshal(b, &j); err != nil {
		return nil, fmt.Errorf("corrupt job record: %w", err)
	}
	return &j, nil
}
