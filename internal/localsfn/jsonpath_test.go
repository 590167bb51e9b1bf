package localsfn

import (
	"strings"
	"testing"
)

func TestJSONPathSubset(t *testing.T) {
	doc := `{"store":{"book":[{"title":"A","price":8,"tags":["x"]},{"title":"B","price":12},{"title":"C","price":30,"isbn":"1"}],"bike":{"price":20}},
	  "a.b":1,"weird key":"w","Test\\\"\"Name\"":"q","n":null}`
	root, err := decodeJSON([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path  string
		want  string // JSON; "" means not found
		defin bool
	}{
		{"$", "", true}, // checked separately: the whole document
		{"$.store.book[0].title", `"A"`, true},
		{"$.store.book[-1].title", `"C"`, true},
		{"$.store.book[5]", "", true},
		{"$['store']['bike'].price", `20`, true},
		{"$['a.b']", `1`, true},
		{"$['weird key']", `"w"`, true},
		{`$['Test\""Name"']`, `"q"`, true},
		{"$.n", `null`, true},
		{"$.store.book.length()", `3`, true},
		{"$.store.book[*].title", `["A","B","C"]`, false},
		{"$.store.book[0:2].title", `["A","B"]`, false},
		{"$.store.book[:1].title", `["A"]`, false},
		{"$.store.book[-2:].title", `["B","C"]`, false},
		{"$.store.book[::2].title", `["A","C"]`, false},
		{"$.store.book[0,2].title", `["A","C"]`, false},
		{"$..price", `[20,8,12,30]`, false},
		{"$.store.book[?(@.price < 10)].title", `["A"]`, false},
		{"$.store.book[?(@.price >= 12 && @.title != 'C')].title", `["B"]`, false},
		{"$.store.book[?(@.isbn)].title", `["C"]`, false},
		{"$.store.book[?(@.title =~ /[ab]/i)].title", `["A","B"]`, false},
		{"$.store.book[?(@.price > $.store.bike.price)].title", `["C"]`, false},
		{"$.missing[*]", `[]`, false},
	}
	for _, tt := range tests {
		p, err := parsePath(tt.path)
		if err != nil {
			t.Errorf("%s: %v", tt.path, err)
			continue
		}
		if p.definite != tt.defin {
			t.Errorf("%s: definite=%v, want %v", tt.path, p.definite, tt.defin)
		}
		got, ok := p.get(root)
		if tt.path == "$" {
			if !ok || !jsonEqual(got, root) {
				t.Errorf("$ must select the whole input")
			}
			continue
		}
		if tt.want == "" {
			if ok {
				t.Errorf("%s: found %s, want nothing", tt.path, encodeJSON(got))
			}
			continue
		}
		want, _ := decodeJSON([]byte(tt.want))
		if !ok || !jsonEqual(got, want) {
			t.Errorf("%s = %s (found %v), want %s", tt.path, encodeJSON(got), ok, tt.want)
		}
	}
}

func TestJSONPathRejects(t *testing.T) {
	for _, s := range []string{"", "a.b", "$.", "$[", "$['a'", "$[1:2:3:4]", "$[x]", "$.a[?(@.b ==)]", "$[?(@.a =~ x)]"} {
		if _, err := parsePath(s); err == nil {
			t.Errorf("parsePath(%q) accepted an invalid path", s)
		}
	}
	for _, s := range []string{"$.a[*]", "$..a", "$$.Execution", "$var.a", "$.a[0:1]"} {
		if _, err := parseReferencePath(s); err == nil {
			t.Errorf("parseReferencePath(%q) accepted a path that cannot name one place", s)
		}
	}
}

func TestResultPathSetCopiesOnWrite(t *testing.T) {
	in, _ := decodeJSON([]byte(`{"a":{"b":1},"list":[{"x":1},{"x":2}]}`))
	before := string(encodeJSON(in))
	for _, tt := range []struct{ path, want string }{
		{"$.a.c", `{"a":{"b":1,"c":"v"},"list":[{"x":1},{"x":2}]}`},
		{"$.new.deep", `{"a":{"b":1},"list":[{"x":1},{"x":2}],"new":{"deep":"v"}}`},
		{"$.list[1].x", `{"a":{"b":1},"list":[{"x":1},{"x":"v"}]}`},
		{"$['a']['b']", `{"a":{"b":"v"},"list":[{"x":1},{"x":2}]}`},
	} {
		p, err := parseReferencePath(tt.path)
		if err != nil {
			t.Fatal(err)
		}
		out, err := p.set(in, "v")
		if err != nil {
			t.Fatalf("%s: %v", tt.path, err)
		}
		want, _ := decodeJSON([]byte(tt.want))
		if !jsonEqual(out, want) {
			t.Errorf("%s: %s, want %s", tt.path, encodeJSON(out), tt.want)
		}
	}
	if string(encodeJSON(in)) != before {
		t.Errorf("ResultPath changed the state's input in place: %s", encodeJSON(in))
	}
	p, _ := parseReferencePath("$.list[5]")
	if _, err := p.set(in, 1); err == nil || !strings.Contains(err.Error(), "out of bounds") {
		t.Errorf("setting past the end: %v", err)
	}
}

func FuzzParsePath(f *testing.F) {
	for _, s := range []string{"$", "$.a[0]", "$..b", "$[?(@.a > 1 && @.b)]", "$['x'][1:2]", "$$.Map.Item.Value", "$var.x"} {
		f.Add(s)
	}
	doc, _ := decodeJSON([]byte(`{"a":[1,{"b":2}],"x":{"y":[true,null]}}`))
	f.Fuzz(func(t *testing.T, s string) {
		p, err := parsePath(s)
		if err != nil {
			return
		}
		p.get(doc) // must not panic
	})
}
