package archive

import (
	"fmt"
	"hash/crc32"

	"github.com/golang/snappy"
)

// Payloads in the database are compressed with Snappy (block format) when
// that saves at least an eighth. What the archive writes is what bounds
// ingest on a small disk (each byte goes to SQLite's log, then to the
// database file), and GitHub's JSON shrinks about three times. Snappy costs
// tens of microseconds for a 25 KB payload; DEFLATE's fastest level saves
// more bytes but costs about five times the CPU, which on two cores is
// worth more than the bytes (measured with BenchmarkIngestHTTP).
const encodingSnappy = "snappy"

// castagnoli is CRC-32C, computed in hardware on amd64 and arm64: each
// stored payload carries the checksum of its bytes, so a damaged row is an
// error, never other bytes.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// checksum is the CRC-32C of a payload.
func checksum(body []byte) uint32 { return crc32.Checksum(body, castagnoli) }

// encode returns the encoding to store body with and the bytes to store.
func encode(body []byte) (encoding string, stored []byte) {
	if len(body) < 256 {
		return "", body
	}
	out := snappy.Encode(nil, body)
	if len(out) > len(body)-len(body)/8 {
		return "", body
	}
	return encodingSnappy, out
}

// decode returns the payload stored as stored with encoding; size and sum
// are the payload's length and CRC-32C as recorded with it.
func decode(encoding string, size int, sum uint32, stored []byte) ([]byte, error) {
	body, err := unpack(encoding, size, stored)
	if err != nil {
		return nil, err
	}
	if got := checksum(body); got != sum {
		return nil, fmt.Errorf("stored payload is damaged: CRC-32C %08x, recorded %08x", got, sum)
	}
	return body, nil
}

func unpack(encoding string, size int, stored []byte) ([]byte, error) {
	switch encoding {
	case "":
		if len(stored) != size {
			return nil, fmt.Errorf("stored payload has %d bytes, recorded %d", len(stored), size)
		}
		return stored, nil
	case encodingSnappy:
		if n, err := snappy.DecodedLen(stored); err != nil || n != size {
			return nil, fmt.Errorf("corrupt compressed payload (decoded length %d, recorded %d, %v)", n, size, err)
		}
		out, err := snappy.Decode(make([]byte, size), stored)
		if err != nil {
			return nil, fmt.Errorf("corrupt compressed payload: %w", err)
		}
		return out, nil
	default:
		return nil, fmt.Errorf("payload stored with unknown encoding %q", encoding)
	}
}
