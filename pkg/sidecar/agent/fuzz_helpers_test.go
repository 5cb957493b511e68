/*
Copyright 2026 The ARL Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package agent_test

// Helpers of the fuzz targets (fuzz_*_test.go). The fuzzed requests reach a
// real agent over its socket and run real processes, so every target keeps
// what a request can do harmless: commands are found by name only in a
// directory holding a few harmless programs (fuzzBin), environment names
// that could change how a program loads (PATH, LD_*) cannot be set, and
// files can only be written under a temporary directory.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// fuzzPrograms are the programs a fuzzed command can name. cat-stdin copies
// its stdin and ignores its arguments (cat would read the files they name).
var fuzzPrograms = []string{"true", "false", "echo", "cat-stdin"}

// fuzzBin returns a directory holding fuzzPrograms, to be the agent's PATH.
func fuzzBin(tb testing.TB) string {
	tb.Helper()
	dir := tb.TempDir()
	for _, name := range []string{"true", "false", "echo"} {
		p, err := exec.LookPath(name)
		if err != nil {
			tb.Fatal(err)
		}
		if err := os.Symlink(p, filepath.Join(dir, name)); err != nil {
			tb.Fatal(err)
		}
	}
	cat, err := exec.LookPath("cat")
	if err != nil {
		tb.Fatal(err)
	}
	script := fmt.Sprintf("#!/bin/sh\nexec %s\n", cat)
	if err := os.WriteFile(filepath.Join(dir, "cat-stdin"), []byte(script), 0o755); err != nil {
		tb.Fatal(err)
	}
	return dir
}

// fuzzArgv splits s at newlines into an argv. A first element that names a
// path (it has a '/') would run whatever it names: it becomes "echo", unless
// a NUL byte makes it a request the agent must refuse anyway.
func fuzzArgv(s string) []string {
	if s == "" {
		return nil
	}
	argv := strings.Split(s, "\n")
	if strings.Contains(argv[0], "/") && !strings.Contains(argv[0], "\x00") {
		argv[0] = "echo"
	}
	return argv
}

// fuzzEnv parses "name\tvalue" lines. Every name the agent would accept is
// prefixed with FUZZ_, so that no request sets PATH, LD_PRELOAD and the
// like; names it must refuse (empty, with '=' or NUL) stay as they are.
func fuzzEnv(s string) map[string]string {
	if s == "" {
		return nil
	}
	env := map[string]string{}
	for _, line := range strings.Split(s, "\n") {
		name, value, _ := strings.Cut(line, "\t")
		if validEnvName(name) {
			name = "FUZZ_" + name
		}
		env[name] = value
	}
	return env
}

func validEnvName(name string) bool { return name != "" && !strings.ContainsAny(name, "=\x00") }

// validCommand is the agent's documented rule for argv and env.
func validCommand(argv []string, env map[string]string) bool {
	if len(argv) == 0 || argv[0] == "" {
		return false
	}
	for _, a := range argv {
		if strings.ContainsRune(a, 0) {
			return false
		}
	}
	for k, v := range env {
		if !validEnvName(k) || strings.ContainsRune(v, 0) {
			return false
		}
	}
	return true
}

// knownProgram reports whether argv0 names one of fuzzPrograms.
func knownProgram(argv0 string) bool {
	for _, p := range fuzzPrograms {
		if argv0 == p {
			return true
		}
	}
	return false
}

// validUTF8 reports whether every string is valid UTF-8: protobuf refuses
// to encode (and to decode) a string field that is not.
func validUTF8(ss ...string) bool {
	for _, s := range ss {
		if !utf8.ValidString(s) {
			return false
		}
	}
	return true
}

func envStrings(env map[string]string) []string {
	out := make([]string, 0, 2*len(env))
	for k, v := range env {
		out = append(out, k, v)
	}
	return out
}

// wantCodeIn fails unless err is a gRPC status with one of codes (nil
// stands for OK). Unknown in particular means a handler returned an error
// that is not a status: bad input must get a code a client can act on.
func wantCodeIn(t *testing.T, what string, err error, allowed ...codes.Code) {
	t.Helper()
	s, ok := status.FromError(err)
	if !ok {
		t.Fatalf("%s: %v is not a gRPC status", what, err)
	}
	for _, c := range allowed {
		if s.Code() == c {
			return
		}
	}
	t.Fatalf("%s: got %v, want one of %v", what, err, allowed)
}

// marshalLax encodes m as protobuf without the UTF-8 check of proto.Marshal:
// what a client that is not written in Go (or is hostile) can send.
func marshalLax(m protoreflect.Message) []byte {
	var b []byte
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.IsList():
			for i := 0; i < v.List().Len(); i++ {
				b = appendLax(b, fd, v.List().Get(i))
			}
		case fd.IsMap():
			v.Map().Range(func(k protoreflect.MapKey, mv protoreflect.Value) bool {
				entry := appendLax(nil, fd.MapKey(), k.Value())
				entry = appendLax(entry, fd.MapValue(), mv)
				b = protowire.AppendTag(b, fd.Number(), protowire.BytesType)
				b = protowire.AppendBytes(b, entry)
				return true
			})
		default:
			b = appendLax(b, fd, v)
		}
		return true
	})
	return b
}

func appendLax(b []byte, fd protoreflect.FieldDescriptor, v protoreflect.Value) []byte {
	switch fd.Kind() {
	case protoreflect.StringKind:
		return protowire.AppendString(protowire.AppendTag(b, fd.Number(), protowire.BytesType), v.String())
	case protoreflect.BytesKind:
		return protowire.AppendBytes(protowire.AppendTag(b, fd.Number(), protowire.BytesType), v.Bytes())
	case protoreflect.MessageKind:
		return protowire.AppendBytes(protowire.AppendTag(b, fd.Number(), protowire.BytesType), marshalLax(v.Message()))
	case protoreflect.BoolKind:
		return protowire.AppendVarint(protowire.AppendTag(b, fd.Number(), protowire.VarintType), protowire.EncodeBool(v.Bool()))
	case protoreflect.Int32Kind, protoreflect.Int64Kind:
		return protowire.AppendVarint(protowire.AppendTag(b, fd.Number(), protowire.VarintType), uint64(v.Int()))
	case protoreflect.Uint32Kind, protoreflect.Uint64Kind:
		return protowire.AppendVarint(protowire.AppendTag(b, fd.Number(), protowire.VarintType), v.Uint())
	case protoreflect.EnumKind:
		return protowire.AppendVarint(protowire.AppendTag(b, fd.Number(), protowire.VarintType), uint64(v.Enum()))
	}
	panic(fmt.Sprintf("marshalLax: %s has kind %v", fd.FullName(), fd.Kind()))
}

// rawCodec sends and receives messages as the bytes they are on the wire.
type rawCodec struct{}

func (rawCodec) Marshal(v any) (mem.BufferSlice, error) {
	return mem.BufferSlice{mem.SliceBuffer(*v.(*[]byte))}, nil
}

func (rawCodec) Unmarshal(data mem.BufferSlice, v any) error {
	*v.(*[]byte) = data.Materialize()
	return nil
}

func (rawCodec) Name() string { return "proto" }

// invokeRaw calls method with frames as the request messages, reads every
// answer, and returns the call's status (nil when it ended OK).
func invokeRaw(ctx context.Context, conn *grpc.ClientConn, method string, frames ...[]byte) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := conn.NewStream(ctx, &grpc.StreamDesc{ServerStreams: true, ClientStreams: true}, method, grpc.ForceCodecV2(rawCodec{}))
	if err != nil {
		return err
	}
	for _, f := range frames {
		if err := stream.SendMsg(&f); err != nil {
			break // the status comes from RecvMsg
		}
	}
	_ = stream.CloseSend()
	for {
		var out []byte
		if err := stream.RecvMsg(&out); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
	}
}
