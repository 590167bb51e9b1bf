package infra

import (
	"archive/zip"
	"bytes"
	"debug/elf"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func moduleRoot(t *testing.T) string {
	t.Helper()
	root, err := ModuleRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// TestEveryLambdaPackageIsDeployed fails when a lambdas/* package has no
// function in the stack (or a function ships no package), so none is
// forgotten.
func TestEveryLambdaPackageIsDeployed(t *testing.T) {
	d := deployed(t)
	pkgs, err := LambdaPackages(moduleRoot(t))
	if err != nil {
		t.Fatal(err)
	}
	var deployedPkgs []string
	for _, f := range d.byType("aws:lambda/function:Function") {
		deployedPkgs = append(deployedPkgs, strings.TrimSuffix(filepath.Base(archivePath(t, f)), ".zip"))
	}
	slices.Sort(deployedPkgs)
	if !slices.Equal(pkgs, deployedPkgs) {
		t.Errorf("lambdas/* packages %v, functions in the stack %v", pkgs, deployedPkgs)
	}
}

func archivePath(t *testing.T, f res) string {
	t.Helper()
	code, ok := f.In["code"]
	if !ok || !code.IsArchive() {
		t.Fatalf("function %s has no code archive", f.Name)
	}
	return code.ArchiveValue().Path
}

// TestArchivesHoldArm64Bootstrap opens every function's zip: Pulumi's mocks
// accept a missing archive that the real engine refuses.
func TestArchivesHoldArm64Bootstrap(t *testing.T) {
	d := deployed(t)
	for _, f := range d.byType("aws:lambda/function:Function") {
		t.Run(f.str("name"), func(t *testing.T) {
			if f.str("runtime") != Runtime || f.str("handler") != "bootstrap" {
				t.Errorf("runtime %q handler %q, want %s bootstrap", f.str("runtime"), f.str("handler"), Runtime)
			}
			if arch := f.In["architectures"].ArrayValue(); len(arch) != 1 || arch[0].StringValue() != "arm64" {
				t.Errorf("architectures %v, want [arm64]", arch)
			}
			path := archivePath(t, f)
			raw, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("archive: %v", err)
			}
			if got, want := f.str("sourceCodeHash"), sha(raw); got != want {
				t.Errorf("sourceCodeHash %s, the zip's is %s", got, want)
			}
			z, err := zip.NewReader(bytes.NewReader(raw), int64(len(raw)))
			if err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			if len(z.File) != 1 || z.File[0].Name != "bootstrap" {
				t.Fatalf("zip holds %d files, first %q; want bootstrap alone", len(z.File), z.File[0].Name)
			}
			if mode := z.File[0].Mode(); mode.Perm()&0o111 == 0 {
				t.Errorf("bootstrap mode %v is not executable", mode)
			}
			rc, err := z.File[0].Open()
			if err != nil {
				t.Fatal(err)
			}
			exe, err := io.ReadAll(rc)
			rc.Close()
			if err != nil {
				t.Fatal(err)
			}
			bin, err := elf.NewFile(bytes.NewReader(exe))
			if err != nil {
				t.Fatalf("bootstrap is not an ELF executable: %v", err)
			}
			if bin.Machine != elf.EM_AARCH64 || bin.Class != elf.ELFCLASS64 || bin.Type != elf.ET_EXEC {
				t.Errorf("bootstrap is %v %v %v, want a 64-bit arm64 executable", bin.Class, bin.Machine, bin.Type)
			}
			for _, p := range bin.Progs {
				if p.Type == elf.PT_INTERP {
					t.Error("bootstrap is dynamically linked (CGO on?); provided.al2023 needs a static binary")
				}
			}
			if bin.Section(".symtab") != nil {
				t.Error("bootstrap keeps its symbol table; it should be built with -s -w")
			}
		})
	}
}

// TestBuildIsDeterministic builds the same Lambda twice from cold output
// directories: the zips are byte for byte the same, so an unchanged Lambda
// keeps its hash and Pulumi does not update it.
func TestBuildIsDeterministic(t *testing.T) {
	root := moduleRoot(t)
	var hashes []string
	for range 2 {
		b := Builder{Root: root, OutDir: t.TempDir()}
		start := time.Now()
		a, err := b.Build(t.Context(), []string{"stub", "alert"})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("built 2 lambdas in %v", time.Since(start))
		hashes = append(hashes, a["stub"].SHA256+" "+a["alert"].SHA256)
	}
	if hashes[0] != hashes[1] {
		t.Errorf("two builds differ: %v", hashes)
	}
}

func TestZipIsDeterministic(t *testing.T) {
	files := map[string][]byte{"bootstrap": []byte("\x7fELF..."), "b.txt": []byte("b"), "a.txt": []byte("a")}
	one, err := Zip(files)
	if err != nil {
		t.Fatal(err)
	}
	two, _ := Zip(map[string][]byte{"a.txt": []byte("a"), "bootstrap": []byte("\x7fELF..."), "b.txt": []byte("b")})
	if !bytes.Equal(one, two) {
		t.Error("the same files zip to different bytes")
	}
	changed, _ := Zip(map[string][]byte{"bootstrap": []byte("\x7fELF..!"), "b.txt": []byte("b"), "a.txt": []byte("a")})
	if bytes.Equal(one, changed) {
		t.Error("a changed file zips to the same bytes")
	}
	z, _ := zip.NewReader(bytes.NewReader(one), int64(len(one)))
	var names []string
	for _, f := range z.File {
		names = append(names, f.Name)
		if !f.Modified.Equal(zipTime) || f.Mode().Perm() != 0o755 {
			t.Errorf("%s: modified %v mode %v, want %v 0755", f.Name, f.Modified, f.Mode(), zipTime)
		}
	}
	if !slices.IsSorted(names) {
		t.Errorf("entries %v are not sorted", names)
	}
}

// TestBuildNamesAMissingPackage: a function whose package is gone fails the
// build with its name, and writes no zip.
func TestBuildNamesAMissingPackage(t *testing.T) {
	out := t.TempDir()
	_, err := Builder{Root: moduleRoot(t), OutDir: out}.Build(t.Context(), []string{"no-such-lambda"})
	if err == nil || !strings.Contains(err.Error(), "lambdas/no-such-lambda") {
		t.Fatalf("err = %v, want one naming lambdas/no-such-lambda", err)
	}
	if entries, _ := os.ReadDir(out); len(entries) != 0 {
		t.Errorf("build dir holds %d entries after a failed build", len(entries))
	}
}

// TestLambdasArePulumiFree: the Lambda binaries must not link the Pulumi SDK
// (size, cold start, and the infra's compile cost).
func TestLambdasArePulumiFree(t *testing.T) {
	cmd := exec.Command("go", "list", "-deps", "./lambdas/...")
	cmd.Dir = moduleRoot(t)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if strings.Contains(line, "github.com/pulumi/") || strings.HasSuffix(line, "/internal/infra") {
			t.Errorf("a Lambda depends on %s", line)
		}
	}
}

// BenchmarkBuildAllLambdas builds every lambdas/* package as `pulumi up`
// does. Run the test binary with an empty GOCACHE for a cold build.
func BenchmarkBuildAllLambdas(b *testing.B) {
	root, err := ModuleRoot(".")
	if err != nil {
		b.Fatal(err)
	}
	pkgs, err := LambdaPackages(root)
	if err != nil {
		b.Fatal(err)
	}
	out := b.TempDir()
	for b.Loop() {
		if _, err := (Builder{Root: root, OutDir: out}).Build(b.Context(), pkgs); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(pkgs)), "lambdas")
}
