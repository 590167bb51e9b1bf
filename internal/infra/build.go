package infra

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"time"
)

// BuildDir is where Lambda archives are written, relative to the module
// root (ignored by git).
const BuildDir = ".pulumi-build"

// zipTime is the modification time of every file in an archive: a fixed
// instant, so the same binary always zips to the same bytes.
var zipTime = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)

// Archive is one Lambda's deployment package.
type Archive struct {
	Package string // directory name under lambdas/
	Path    string // absolute path of the zip
	SHA256  string // base64 SHA-256 of the zip, Lambda's source code hash
}

// Builder cross-compiles lambdas/* packages into deterministic zips.
type Builder struct {
	Root   string // module root (holds go.mod and lambdas/)
	OutDir string // where zips go; BuildDir under Root when empty
	GOARCH string // "arm64" (default) or "amd64"
	// Parallel bounds the concurrent `go build`s; runtime.NumCPU() when 0.
	Parallel int
}

// ModuleRoot returns the nearest directory at or above dir holding go.mod.
func ModuleRoot(dir string) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no go.mod at or above %s: run the program from the ai3 repository", dir)
		}
	}
}

// LambdaPackages lists the directories under root/lambdas that hold a Go
// main package (a main.go), sorted.
func LambdaPackages(root string) ([]string, error) {
	entries, err := os.ReadDir(filepath.Join(root, "lambdas"))
	if err != nil {
		return nil, fmt.Errorf("list lambdas: %w", err)
	}
	var out []string
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		if _, err := os.Stat(filepath.Join(root, "lambdas", e.Name(), "main.go")); err == nil {
			out = append(out, e.Name())
		}
	}
	return out, nil
}

// Build compiles each named package (a directory under lambdas/) and zips
// it; it returns the archives by package name. A package that does not exist
// or does not compile is an error naming it; nothing is half-written (each
// zip is replaced atomically, and only when its bytes changed).
func (b Builder) Build(ctx context.Context, pkgs []string) (map[string]Archive, error) {
	out := b.OutDir
	if out == "" {
		out = filepath.Join(b.Root, BuildDir)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return nil, fmt.Errorf("lambda build dir: %w", err)
	}
	par := b.Parallel
	if par <= 0 {
		par = runtime.NumCPU()
	}
	sem := make(chan struct{}, par)
	var (
		mu   sync.Mutex
		arch = map[string]Archive{}
		errs []error
		wg   sync.WaitGroup
	)
	for _, p := range slices.Sorted(slices.Values(pkgs)) {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			a, err := b.one(ctx, p, out)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
				return
			}
			arch[p] = a
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return arch, nil
}

func (b Builder) one(ctx context.Context, pkg, out string) (Archive, error) {
	src := filepath.Join(b.Root, "lambdas", pkg)
	if _, err := os.Stat(filepath.Join(src, "main.go")); err != nil {
		return Archive{}, fmt.Errorf("lambda %s: no main package at lambdas/%s (add it, or remove the function from the stack)", pkg, pkg)
	}
	goarch := b.GOARCH
	if goarch == "" {
		goarch = "arm64"
	}
	tmp, err := os.MkdirTemp(out, "."+pkg+"-")
	if err != nil {
		return Archive{}, fmt.Errorf("lambda %s: %w", pkg, err)
	}
	defer os.RemoveAll(tmp)
	bin := filepath.Join(tmp, "bootstrap")
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-buildvcs=false", "-tags", "lambda.norpc",
		"-ldflags", "-s -w -buildid=", "-o", bin, "./lambdas/"+pkg)
	cmd.Dir = b.Root
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH="+goarch, "CGO_ENABLED=0")
	if msg, err := cmd.CombinedOutput(); err != nil {
		return Archive{}, fmt.Errorf("lambda %s: go build: %w\n%s", pkg, err, msg)
	}
	exe, err := os.ReadFile(bin)
	if err != nil {
		return Archive{}, fmt.Errorf("lambda %s: %w", pkg, err)
	}
	zipped, err := Zip(map[string][]byte{"bootstrap": exe})
	if err != nil {
		return Archive{}, fmt.Errorf("lambda %s: %w", pkg, err)
	}
	path := filepath.Join(out, pkg+".zip")
	if old, err := os.ReadFile(path); err != nil || !bytes.Equal(old, zipped) {
		next := filepath.Join(tmp, pkg+".zip")
		if err := os.WriteFile(next, zipped, 0o644); err != nil {
			return Archive{}, fmt.Errorf("lambda %s: %w", pkg, err)
		}
		if err := os.Rename(next, path); err != nil {
			return Archive{}, fmt.Errorf("lambda %s: %w", pkg, err)
		}
	}
	sum := sha256.Sum256(zipped)
	return Archive{Package: pkg, Path: path, SHA256: base64.StdEncoding.EncodeToString(sum[:])}, nil
}

// Zip packs files deterministically: names sorted, a fixed modification
// time, mode 0755, deflated. The same files always give the same bytes.
func Zip(files map[string][]byte) ([]byte, error) {
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	for _, name := range slices.Sorted(maps.Keys(files)) {
		h := &zip.FileHeader{Name: name, Method: zip.Deflate, Modified: zipTime}
		h.SetMode(fs.FileMode(0o755))
		f, err := w.CreateHeader(h)
		if err != nil {
			return nil, fmt.Errorf("zip %s: %w", name, err)
		}
		if _, err := f.Write(files[name]); err != nil {
			return nil, fmt.Errorf("zip %s: %w", name, err)
		}
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("zip: %w", err)
	}
	return buf.Bytes(), nil
}
