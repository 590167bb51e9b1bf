package archive

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/golang/snappy"

	"github.com/sbalswa/ai3-mvp/internal/events"
	"github.com/sbalswa/ai3-mvp/internal/events/archivetest"
	"github.com/sbalswa/ai3-mvp/internal/local"

	"github.com/sbalswa/ai3-mvp/internal/testenv"
)

// dbArchive is an archive with a database tier, and what it is made of.
type dbArchive struct {
	*Archive
	db      *sql.DB
	commits *local.Committer
	dbPath  string
	root    string
}

func openDBArchive(t *testing.T, smallMax int) *dbArchive {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	d := &dbArchive{dbPath: filepath.Join(dir, "ai3.db"), root: filepath.Join(dir, "payloads")}
	var err error
	if d.db, err = local.OpenSQLite(ctx, d.dbPath); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.db.Close() })
	d.commits = local.NewCommitter(d.db, nil)
	t.Cleanup(func() { d.commits.Close() })
	if d.Archive, err = Open(ctx, d.root, Options{Committer: d.commits, SmallMax: smallMax}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Archive.Close() })
	return d
}

// row is a payload's row; ok is false when there is none.
type row struct {
	encoding string
	size     int
	stored   int
	ok       bool
}

func (d *dbArchive) row(t *testing.T, key string) row {
	t.Helper()
	var r row
	err := d.db.QueryRow(`SELECT encoding, size, length(body) FROM archive_payloads WHERE key = ?`, key).Scan(&r.encoding, &r.size, &r.stored)
	if errors.Is(err, sql.ErrNoRows) {
		return row{}
	}
	if err != nil {
		t.Fatal(err)
	}
	r.ok = true
	return r
}

func (d *dbArchive) hasFile(t *testing.T, key string) bool {
	t.Helper()
	_, err := os.Stat(filepath.Join(d.root, filepath.FromSlash(key)))
	if errors.Is(err, fs.ErrNotExist) {
		return false
	}
	if err != nil {
		t.Fatal(err)
	}
	return true
}

func (d *dbArchive) mustGet(t *testing.T, key string, want []byte) {
	t.Helper()
	got, err := d.Get(context.Background(), events.Ref{Bucket: Bucket, Key: key})
	if err != nil {
		t.Fatalf("Get %s: %v", key, err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("Get %s = %d bytes %.40q, want %d bytes %.40q", key, len(got), got, len(want), want)
	}
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// jsonPayload is a compressible JSON payload of about n bytes.
func jsonPayload(n int) []byte {
	var b bytes.Buffer
	b.WriteString(`{"items":[`)
	for i := 0; b.Len() < n-40; i++ {
		fmt.Fprintf(&b, `{"id":%d,"login":"octocat","state":"open"},`, i)
	}
	b.WriteString(`{}]}`)
	return b.Bytes()
}

// The database tier keeps the Archive contract, with every payload small
// (the default limit) and with payloads on both sides of a low limit.
func TestContractDB(t *testing.T) {
	for _, smallMax := range []int{0, 1024} {
		t.Run(fmt.Sprintf("SmallMax=%d", smallMax), func(t *testing.T) {
			archivetest.Run(t, func(t *testing.T) events.Archive { return openDBArchive(t, smallMax) })
		})
	}
}

// Payloads up to SmallMax are rows (no file); larger ones are files (no row).
func TestDBTiers(t *testing.T) {
	ctx := context.Background()
	a := openDBArchive(t, 1024)
	cases := []struct {
		name string
		body []byte
		row  bool
	}{
		{"tiny", []byte(`{}`), true},
		{"at the limit", randomBytes(1024), true},
		{"one byte over", randomBytes(1025), false},
		{"large", jsonPayload(64 << 10), false},
	}
	for i, tc := range cases {
		key := fmt.Sprintf("2026/11/28/push/tier-%d.json", i)
		if _, err := a.Put(ctx, key, tc.body); err != nil {
			t.Fatal(err)
		}
		if r, f := a.row(t, key), a.hasFile(t, key); r.ok != tc.row || f == tc.row {
			t.Errorf("%s (%d bytes): row %v, file %v; want row %v, file %v", tc.name, len(tc.body), r.ok, f, tc.row, !tc.row)
		}
		a.mustGet(t, key, tc.body)
	}
}

// No payload is replaced across tiers either: a small payload's row is not
// hidden by a later file, nor a file by a later row; the same bytes again
// are accepted, through Put and through Stage and Commit (the receiver's
// path), and nothing is written.
func TestDBNeverReplacesAcrossTiers(t *testing.T) {
	ctx := context.Background()
	small, large := []byte(`{"v":1}`), jsonPayload(4096)
	for _, first := range [][]byte{small, large} {
		a := openDBArchive(t, 1024)
		key := fmt.Sprintf("2026/11/28/push/1/first-%d.json", len(first))
		if _, err := a.Put(ctx, key, first); err != nil {
			t.Fatal(err)
		}
		row := a.row(t, key).ok
		for _, other := range [][]byte{[]byte(`{"v":3}`), randomBytes(8192)} {
			if _, err := a.Put(ctx, key, other); !errors.Is(err, events.ErrArchived) {
				t.Fatalf("Put of %d bytes over %d = %v, want ErrArchived", len(other), len(first), err)
			}
			st, err := a.Stage(ctx, key, other)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := st.Commit(ctx); !errors.Is(err, events.ErrArchived) {
				t.Fatalf("Commit of %d bytes over %d = %v, want ErrArchived", len(other), len(first), err)
			}
			if a.row(t, key).ok != row {
				t.Fatalf("the refused write changed the tiers (row %v)", !row)
			}
			a.mustGet(t, key, first)
		}
		st, err := a.Stage(ctx, key, first)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.Commit(ctx); err != nil {
			t.Fatalf("committing the archived bytes again: %v", err)
		}
		a.mustGet(t, key, first)
	}
}

// A compressible payload is stored Snappy-compressed in fewer bytes; an
// incompressible or tiny one is stored as it is. Each reads back exactly.
func TestDBCompression(t *testing.T) {
	ctx := context.Background()
	a := openDBArchive(t, 0)
	cases := []struct {
		name     string
		body     []byte
		encoding string
	}{
		{"json", jsonPayload(25 << 10), "snappy"},
		{"random", randomBytes(25 << 10), ""},
		{"tiny", []byte(`{"zen":"Keep it simple.","hook_id":1}`), ""},
		{"compressible under 256 bytes", bytes.Repeat([]byte("a"), 255), ""},
		{"compressible at 256 bytes", bytes.Repeat([]byte("a"), 256), "snappy"},
	}
	for i, tc := range cases {
		key := fmt.Sprintf("2026/11/28/push/c-%d.json", i)
		if _, err := a.Put(ctx, key, tc.body); err != nil {
			t.Fatal(err)
		}
		r := a.row(t, key)
		switch {
		case !r.ok:
			t.Fatalf("%s: no row", tc.name)
		case r.encoding != tc.encoding || r.size != len(tc.body):
			t.Errorf("%s: stored with encoding %q, size %d; want %q, %d", tc.name, r.encoding, r.size, tc.encoding, len(tc.body))
		case r.encoding == "snappy" && r.stored >= len(tc.body)-len(tc.body)/8:
			t.Errorf("%s: compressed to %d of %d bytes", tc.name, r.stored, len(tc.body))
		case r.encoding == "" && r.stored != len(tc.body):
			t.Errorf("%s: stored %d bytes of %d", tc.name, r.stored, len(tc.body))
		}
		a.mustGet(t, key, tc.body)
	}
}

// A corrupt row makes Get fail; it never returns other bytes: damage to the
// row's structure (its size, length, Snappy header and stream, encoding)
// and a single changed byte anywhere in the stored body (caught by the
// payload's CRC-32C).
func TestDBCorruptRowsFailGet(t *testing.T) {
	ctx := context.Background()
	raw, compressible := randomBytes(2048), jsonPayload(8192)
	cases := []struct {
		name    string
		body    []byte
		corrupt func(stored []byte) (query string, args []any)
	}{
		{"raw: size recorded too large", raw, func([]byte) (string, []any) {
			return `UPDATE archive_payloads SET size = size + 1`, nil
		}},
		{"raw: size recorded too small", raw, func([]byte) (string, []any) {
			return `UPDATE archive_payloads SET size = size - 1`, nil
		}},
		{"raw: body truncated", raw, func(b []byte) (string, []any) {
			return `UPDATE archive_payloads SET body = ?`, []any{b[:len(b)-1]}
		}},
		{"raw: body empty", raw, func([]byte) (string, []any) {
			return `UPDATE archive_payloads SET body = X''`, nil
		}},
		{"snappy: size recorded wrong", compressible, func([]byte) (string, []any) {
			return `UPDATE archive_payloads SET size = size + 1`, nil
		}},
		{"snappy: length header flipped", compressible, func(b []byte) (string, []any) {
			c := bytes.Clone(b)
			c[0] ^= 0x01
			return `UPDATE archive_payloads SET body = ?`, []any{c}
		}},
		{"snappy: stream truncated", compressible, func(b []byte) (string, []any) {
			return `UPDATE archive_payloads SET body = ?`, []any{b[:len(b)-3]}
		}},
		{"snappy: stream cut in half", compressible, func(b []byte) (string, []any) {
			return `UPDATE archive_payloads SET body = ?`, []any{b[:len(b)/2]}
		}},
		{"snappy: stream garbage after the header", compressible, func(b []byte) (string, []any) {
			c := bytes.Clone(b)
			n := len(c) - len(snappyBody(c))
			for i := n; i < len(c); i++ {
				c[i] = 0xff
			}
			return `UPDATE archive_payloads SET body = ?`, []any{c}
		}},
		{"raw: one byte flipped", raw, func(b []byte) (string, []any) {
			c := bytes.Clone(b)
			c[len(c)/2] ^= 0x20
			return `UPDATE archive_payloads SET body = ?`, []any{c}
		}},
		{"snappy: one literal byte flipped", compressible, func(b []byte) (string, []any) {
			c := bytes.Clone(b)
			c[len(c)-1] ^= 0x01 // the stream ends in literal bytes or a copy's offset
			return `UPDATE archive_payloads SET body = ?`, []any{c}
		}},
		{"checksum recorded wrong", compressible, func([]byte) (string, []any) {
			return `UPDATE archive_payloads SET crc = (crc + 1) % 4294967296`, nil
		}},
		{"snappy payload read as raw", compressible, func([]byte) (string, []any) {
			return `UPDATE archive_payloads SET encoding = ''`, nil
		}},
		{"raw payload read as snappy", raw, func([]byte) (string, []any) {
			return `UPDATE archive_payloads SET encoding = 'snappy'`, nil
		}},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := openDBArchive(t, 0)
			key := fmt.Sprintf("2026/11/28/push/corrupt-%d.json", i)
			if _, err := a.Put(ctx, key, tc.body); err != nil {
				t.Fatal(err)
			}
			var stored []byte
			if err := a.db.QueryRow(`SELECT body FROM archive_payloads WHERE key = ?`, key).Scan(&stored); err != nil {
				t.Fatal(err)
			}
			query, args := tc.corrupt(stored)
			if res, err := a.db.Exec(query, args...); err != nil {
				t.Fatal(err)
			} else if n, _ := res.RowsAffected(); n != 1 {
				t.Fatalf("the corruption changed %d rows", n)
			}
			got, err := a.Get(ctx, events.Ref{Bucket: Bucket, Key: key})
			if err == nil || errors.Is(err, events.ErrNotFound) || got != nil {
				t.Fatalf("Get of a corrupt row = %d bytes, %v; want an error", len(got), err)
			}
		})
	}
}

// snappyBody is the stream after a Snappy block's length header (a varint).
func snappyBody(b []byte) []byte {
	for i, c := range b {
		if c < 0x80 {
			return b[i+1:]
		}
	}
	return nil
}

// An encoding the table does not allow (written past its CHECK) makes Get
// fail.
func TestDBUnknownEncodingFailsGet(t *testing.T) {
	ctx := context.Background()
	a := openDBArchive(t, 0)
	key := "2026/11/28/push/zstd.json"
	if _, err := a.Put(ctx, key, []byte(`{"a":1}`)); err != nil {
		t.Fatal(err)
	}
	if _, err := a.db.Exec(`UPDATE archive_payloads SET encoding = 'zstd'`); err == nil {
		t.Fatal("the table accepts an unknown encoding")
	}
	conn, err := a.db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, q := range []string{`PRAGMA ignore_check_constraints = ON`, `UPDATE archive_payloads SET encoding = 'zstd'`, `PRAGMA ignore_check_constraints = OFF`} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := a.Get(ctx, events.Ref{Bucket: Bucket, Key: key}); err == nil || !strings.Contains(err.Error(), "zstd") {
		t.Fatalf("Get with encoding zstd = %q, %v; want an error naming it", got, err)
	}
}

func TestDecode(t *testing.T) {
	body := jsonPayload(4096)
	packed := snappy.Encode(nil, body)
	for _, tc := range []struct {
		name, encoding string
		size           int
		stored         []byte
		ok             bool
	}{
		{"raw", "", len(body), body, true},
		{"snappy", "snappy", len(body), packed, true},
		{"raw, size differs", "", len(body) + 1, body, false},
		{"snappy, size differs", "snappy", len(body) - 1, packed, false},
		{"snappy, truncated", "snappy", len(body), packed[:len(packed)-1], false},
		{"snappy, empty", "snappy", len(body), nil, false},
		{"snappy, not snappy", "snappy", len(body), body, false},
		{"unknown encoding", "zstd", len(body), body, false},
		{"encoding in another case", "Snappy", len(body), packed, false},
		{"raw, a byte changed", "", len(body), append(bytes.Clone(body[:len(body)-1]), body[len(body)-1]^1), false},
	} {
		got, err := decode(tc.encoding, tc.size, checksum(body), tc.stored)
		if tc.ok && (err != nil || !bytes.Equal(got, body)) {
			t.Errorf("%s: decode = %d bytes, %v; want the payload", tc.name, len(got), err)
		}
		if !tc.ok && (err == nil || got != nil) {
			t.Errorf("%s: decode = %d bytes, %v; want an error", tc.name, len(got), err)
		}
	}
	for _, n := range []int{0, 1, 255, 256, 257, 4096, 1 << 20} {
		for _, body := range [][]byte{randomBytes(n), bytes.Repeat([]byte("ab"), n/2)} {
			enc, stored := encode(body)
			got, err := decode(enc, len(body), checksum(body), stored)
			if err != nil || !bytes.Equal(got, body) {
				t.Errorf("round trip of %d bytes (encoding %q): %d bytes, %v", len(body), enc, len(got), err)
			}
		}
	}
}

// Check fails once the payload table is gone.
func TestDBCheckFailsWithoutTable(t *testing.T) {
	ctx := context.Background()
	a := openDBArchive(t, 0)
	if err := a.Check(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := a.db.Exec(`DROP TABLE archive_payloads`); err != nil {
		t.Fatal(err)
	}
	if err := a.Check(ctx); err == nil {
		t.Fatal("Check without the payload table returned nil")
	}
}

// A small payload staged is not in the database until committed, a
// discarded one never is; the staged payload can also be committed inside
// another transaction of the committer (CommitIn), at its Ref.
func TestDBStageCommitDiscard(t *testing.T) {
	ctx := context.Background()
	a := openDBArchive(t, 0)
	kept, dropped := stageKeptAndDropped(t, a.Archive)
	within := "2026/11/28/push/within.json"
	if a.row(t, dropped).ok || a.hasFile(t, dropped) || a.hasFile(t, kept) {
		t.Fatal("the discarded payload was stored, or the committed one is also a file")
	}

	st, err := a.Stage(ctx, within, []byte(`{"within":true}`))
	if err != nil {
		t.Fatal(err)
	}
	in, ok := st.(interface {
		Ref() events.Ref
		CommitIn(context.Context, *sql.Tx) error
	})
	if !ok {
		t.Fatalf("a small staged payload (%T) cannot be committed in a transaction", st)
	}
	if ref := in.Ref(); ref != (events.Ref{Bucket: Bucket, Key: within}) {
		t.Fatalf("Ref = %+v", ref)
	}
	errRollback := errors.New("roll back")
	err = a.commits.Do(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if err := in.CommitIn(ctx, tx); err != nil {
			return err
		}
		return errRollback
	})
	if !errors.Is(err, errRollback) || a.row(t, within).ok {
		t.Fatalf("CommitIn in a transaction rolled back: %v, row %v", err, a.row(t, within).ok)
	}
	if err := a.commits.Do(ctx, in.CommitIn); err != nil {
		t.Fatal(err)
	}
	a.mustGet(t, within, []byte(`{"within":true}`))
}

// A payload whose Put returned survives a crash: the database file and its
// log as they are on disk, opened afresh, hold it.
func TestDBPutSurvivesCrash(t *testing.T) {
	ctx := context.Background()
	a := openDBArchive(t, 0)
	bodies := map[string][]byte{}
	for i := range 20 {
		key := fmt.Sprintf("2026/11/28/push/durable-%d.json", i)
		body := jsonPayload(1000 + 500*i)
		if i%2 == 1 {
			body = randomBytes(1000 + 500*i)
		}
		if _, err := a.Put(ctx, key, body); err != nil {
			t.Fatal(err)
		}
		bodies[key] = body
	}
	lock := a.commits.Lock()
	lock.Lock() // no commit while copying
	path := testenv.CrashCopy(t, a.dbPath)
	lock.Unlock()
	db, err := local.OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	commits := local.NewCommitter(db, nil)
	defer commits.Close()
	b, err := Open(ctx, filepath.Join(filepath.Dir(path), "payloads"), Options{Committer: commits})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	for key, want := range bodies {
		got, err := b.Get(ctx, events.Ref{Bucket: Bucket, Key: key})
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("after a crash %s = %d bytes, %v; want %d bytes", key, len(got), err, len(want))
		}
	}
}
