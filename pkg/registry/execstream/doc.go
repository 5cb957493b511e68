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

// Package execstream runs a command in a sandbox's agent for an HTTP
// caller, with no object stored: over a WebSocket with the channel
// protocol of pods/exec (ServeWebSocket), or as one request with an NDJSON
// answer (ServePlain). sandboxes/{name}/exec serves both, and standalone's
// pods/{name}/exec the first for local pool pods.
package execstream
