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

package executor

import (
	"errors"
	"strings"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/arl-infra/arl/pkg/apis/arl/validation"
)

// outputDroppedMessage ends the message of a Task stored without its
// output (see tooLarge).
const outputDroppedMessage = "its output did not fit in the store and was left out of its status " +
	"(tasks/{name}/log?raw=true serves it for a few minutes)"

// statusOutput is what a finished Task's status keeps of its output.
type statusOutput struct {
	stdout, stderr                   string
	stdoutTruncated, stderrTruncated bool
	// firsts are the stream offsets of stdout's and stderr's first bytes.
	firsts streamOffsets
}

// statusOutputOf takes the output's tails, each cut to capBytes as stored:
// the tails hold capBytes of bytes, but JSON writes '<' or a control byte
// as six, so a cap on bytes alone would let a command's output take six
// times the room the cap promises in etcd.
func statusOutputOf(o *output, capBytes int) statusOutput {
	var s statusOutput
	s.stdout, s.stderr, s.stdoutTruncated, s.stderrTruncated = o.statusOutput()
	s.firsts = o.firsts()
	cut := func(tail *string, truncated *bool, first *int64) {
		kept := validation.StoredSuffix(*tail, capBytes)
		if len(kept) < len(*tail) {
			*first += int64(len(*tail) - len(kept))
			*tail, *truncated = kept, true
		}
	}
	cut(&s.stdout, &s.stdoutTruncated, &s.firsts.stdout)
	cut(&s.stderr, &s.stderrTruncated, &s.firsts.stderr)
	return s
}

// dropped is the status output of a result stored without its output.
func (s statusOutput) dropped() statusOutput {
	return statusOutput{stdoutTruncated: s.stdout != "" || s.stdoutTruncated, stderrTruncated: s.stderr != "" || s.stderrTruncated}
}

// tooLarge says a write failed for its size: etcd's request limit, or the
// message limit of ARL's etcd client.
func tooLarge(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, rpctypes.ErrRequestTooLarge) || errors.Is(err, rpctypes.ErrGRPCRequestTooLarge) {
		return true
	}
	if s, ok := status.FromError(err); ok && s.Code() == codes.ResourceExhausted {
		return true
	}
	// The API server's wrapping of a storage error keeps only its text.
	return strings.Contains(err.Error(), "request is too large") || strings.Contains(err.Error(), "message larger than max")
}
