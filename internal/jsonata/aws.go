package jsonata

import (
	"crypto/md5"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"math"
	mrand "math/rand/v2"
	"strings"
	"sync"
)

// maxAWSRange is the most items $range may return (States.ArrayRange's limit).
const maxAWSRange = 1000

// maxHashInput is the longest string $hash accepts (States.Hash's limit).
const maxHashInput = 10000

// awsError is an argument error from one of AWS's functions.
func awsError(pos int, fn, format string, args ...any) *Error {
	return &Error{Code: "D3137", Position: pos, Token: fn, Message: fmt.Sprintf("$"+fn+": "+format, args...)}
}

// AWSFunctions registers the functions Step Functions adds to JSONata
// ($partition, $range, $hash, $random with an optional seed, $uuid, $parse)
// and refuses $eval at compile time, as AWS does.
func AWSFunctions() Option {
	return func(c *config) error {
		if !c.owned && c.lib == standardLibrary() {
			c.lib = awsLibrary()
			return nil
		}
		addAWSFunctions(c.mutable())
		return nil
	}
}

// awsLibrary is the standard library with AWS's functions, built once.
var awsLibrary = sync.OnceValue(func() *library {
	lib := standardLibrary().clone()
	addAWSFunctions(lib)
	return lib
})

func addAWSFunctions(lib *library) {
	{
		lib.refuseEval = true
		delete(lib.funcs, "eval")
		add := func(name, sig string, impl func(*evaluator, []any, any, int) (any, error)) {
			s, err := parseSignature(sig)
			if err != nil {
				panic(fmt.Sprintf("jsonata: bad signature for $%s: %v", name, err))
			}
			lib.funcs[name] = &builtin{name: name, sig: s, impl: impl}
		}
		add("partition", "xn", awsPartition)
		add("range", "nnn?", awsRange)
		add("hash", "ss", awsHash)
		add("random", "n?", awsRandom)
		add("uuid", "", func(*evaluator, []any, any, int) (any, error) { return uuidV4() })
		add("parse", "s", awsParse)
	}
}

func wholeNumber(v any) (int, bool) {
	f, ok := asNumber(v)
	if !ok || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return 0, false
	}
	return int(f), true
}

func awsPartition(_ *evaluator, a []any, _ any, pos int) (any, error) {
	items, ok := arrayItems(a[0])
	if !ok {
		return nil, awsError(pos, "partition", "the first argument must be an array")
	}
	size, ok := wholeNumber(a[1])
	if !ok || size <= 0 {
		return nil, awsError(pos, "partition", "the chunk size must be a positive integer, got %s", jsonText(plain(a[1])))
	}
	out := make([]any, 0, (len(items)+size-1)/size)
	for i := 0; i < len(items); i += size {
		chunk := make([]any, min(size, len(items)-i))
		copy(chunk, items[i:])
		out = append(out, chunk)
	}
	return out, nil
}

func awsRange(_ *evaluator, a []any, _ any, pos int) (any, error) {
	start, ok1 := wholeNumber(a[0])
	end, ok2 := wholeNumber(a[1])
	if !ok1 || !ok2 {
		return nil, awsError(pos, "range", "the start and end must be integers")
	}
	step := 1
	if !isUndefined(a[2]) {
		var ok bool
		if step, ok = wholeNumber(a[2]); !ok || step == 0 {
			return nil, awsError(pos, "range", "the step must be a non-zero integer")
		}
	}
	out := []any{}
	for v := start; (step > 0 && v <= end) || (step < 0 && v >= end); v += step {
		if len(out) == maxAWSRange {
			return nil, awsError(pos, "range", "the range would have more than %d items", maxAWSRange)
		}
		out = append(out, float64(v))
	}
	if len(out) == 1 {
		return out[0], nil // JSONata's singleton rule: a sequence of one is its item
	}
	return out, nil
}

func awsHash(_ *evaluator, a []any, _ any, pos int) (any, error) {
	data, ok := str(a[0])
	if !ok {
		return nil, awsError(pos, "hash", "the data to hash must be a string")
	}
	if len([]rune(data)) > maxHashInput {
		return nil, awsError(pos, "hash", "the data to hash must be at most %d characters", maxHashInput)
	}
	alg, _ := str(a[1])
	digest, ok := HashHex(alg, data)
	if !ok {
		return nil, awsError(pos, "hash", "unsupported algorithm %s; use one of MD5, SHA-1, SHA-256, SHA-384, SHA-512", jsonText(alg))
	}
	return digest, nil
}

func awsRandom(_ *evaluator, a []any, _ any, pos int) (any, error) {
	if isUndefined(a[0]) {
		return mrand.Float64(), nil
	}
	seed, ok := wholeNumber(a[0])
	if !ok {
		return nil, awsError(pos, "random", "the seed must be an integer")
	}
	return mrand.New(mrand.NewPCG(uint64(seed), 0)).Float64(), nil
}

func uuidV4() (any, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, fmt.Errorf("jsonata: $uuid: %w", err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	s := hex.EncodeToString(b[:])
	return s[:8] + "-" + s[8:12] + "-" + s[12:16] + "-" + s[16:20] + "-" + s[20:], nil
}

func awsParse(_ *evaluator, a []any, _ any, pos int) (any, error) {
	s, ok := str(a[0])
	if !ok {
		return nil, awsError(pos, "parse", "the argument must be a string")
	}
	dec := json.NewDecoder(strings.NewReader(s))
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, awsError(pos, "parse", "the argument is not valid JSON: %v", err)
	}
	if dec.More() {
		return nil, awsError(pos, "parse", "the argument has data after the JSON value")
	}
	return plain(v), nil
}

// HashHex returns the hex digest of data under one of the algorithms that
// AWS's $hash and States.Hash accept: MD5, SHA-1, SHA-256, SHA-384 and
// SHA-512. ok is false for any other name.
func HashHex(algorithm, data string) (digest string, ok bool) {
	var h hash.Hash
	switch algorithm {
	case "MD5":
		h = md5.New()
	case "SHA-1":
		h = sha1.New()
	case "SHA-256":
		h = sha256.New()
	case "SHA-384":
		h = sha512.New384()
	case "SHA-512":
		h = sha512.New()
	default:
		return "", false
	}
	h.Write([]byte(data))
	return hex.EncodeToString(h.Sum(nil)), true
}
