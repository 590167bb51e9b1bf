package workflows

import (
	"errors"
	"strings"
	"testing"
)

func TestEveryWorkflowHasASpec(t *testing.T) {
	for _, name := range Names() {
		if _, ok := specs[name]; !ok {
			t.Errorf("workflow %s has no Spec", name)
		}
	}
	if _, err := SpecOf("nope"); !errors.Is(err, ErrUnknown) {
		t.Fatalf("SpecOf(nope) err = %v", err)
	}
}

func TestSpecParse(t *testing.T) {
	s, err := SpecOf("deploy")
	if err != nil {
		t.Fatal(err)
	}
	checks, _ := SpecOf("checks")
	for _, tc := range []struct {
		spec    Spec
		args    []string
		want    map[string]string
		wantErr string
	}{
		{spec: checks, args: nil, want: map[string]string{"max_diff_lines": "800"}},
		{spec: checks, args: []string{"max_diff_lines=20"}, want: map[string]string{"max_diff_lines": "20"}},
		{spec: checks, args: []string{"max_diff_lines=lots"}, wantErr: "whole number"},
		{spec: checks, args: []string{"max_diff_lines=-1"}, wantErr: "whole number"},
		{spec: s, args: []string{"ref=main", "smoke_url=http://127.0.0.1:9/health"}, want: map[string]string{"ref": "main", "smoke_url": "http://127.0.0.1:9/health"}},
		{spec: s, args: []string{"ref=main"}, wantErr: "missing argument smoke_url="},
		{spec: s, args: []string{"colour=blue"}, wantErr: `unknown argument "colour" (known: ref, smoke_url)`},
		{spec: s, args: []string{"ref", "smoke_url=u"}, wantErr: "not key=value"},
		{spec: s, args: []string{"=x", "smoke_url=u"}, wantErr: "not key=value"},
		{spec: s, args: []string{"ref=a", "ref=b", "smoke_url=u"}, wantErr: "given twice"},
		{spec: s, args: []string{"ref=", "smoke_url=u"}, wantErr: "non-empty"},
	} {
		got, err := tc.spec.Parse(tc.args)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("Parse(%q) err = %v, want %q", tc.args, err, tc.wantErr)
			}
			continue
		}
		if err != nil || len(got) != len(tc.want) {
			t.Errorf("Parse(%q) = %v, %v; want %v", tc.args, got, err, tc.want)
			continue
		}
		for k, v := range tc.want {
			if got[k] != v {
				t.Errorf("Parse(%q)[%s] = %q, want %q", tc.args, k, got[k], v)
			}
		}
	}
	if u := s.Usage("deploy"); u != "run deploy [ref=string] smoke_url=string" {
		t.Errorf("Usage = %q", u)
	}
}

func TestExpress(t *testing.T) {
	if !Express("checks") || Express("ci") || Express("deploy") || Express("nope") {
		t.Fatal("checks is the EXPRESS workflow; ci and deploy are STANDARD; unknown names are not")
	}
}
