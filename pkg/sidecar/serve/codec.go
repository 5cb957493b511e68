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

package serve

import (
	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/encoding/proto"
	"google.golang.org/grpc/mem"
)

// frame is one gRPC message forwarded as it came, never decoded.
type frame struct {
	data mem.BufferSlice
}

// rawCodec passes frames through untouched (their buffers change hands
// without a copy) and encodes everything else, such as the health service's
// messages, as protobuf.
type rawCodec struct{}

var protoCodec = encoding.GetCodecV2(proto.Name)

func (rawCodec) Marshal(v any) (mem.BufferSlice, error) {
	if f, ok := v.(*frame); ok {
		// gRPC frees what Marshal returns: the reference Unmarshal took
		// moves with it.
		out := f.data
		f.data = nil
		return out, nil
	}
	return protoCodec.Marshal(v)
}

func (rawCodec) Unmarshal(data mem.BufferSlice, v any) error {
	if f, ok := v.(*frame); ok {
		data.Ref() // gRPC frees data when Unmarshal returns
		f.data = data
		return nil
	}
	return protoCodec.Unmarshal(data, v)
}

// Name is "proto": the frames are protobuf, and the content type stays
// application/grpc+proto on both legs.
func (rawCodec) Name() string { return proto.Name }
