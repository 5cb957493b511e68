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

package apiserver

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	genericapiserver "k8s.io/apiserver/pkg/server"
	"k8s.io/client-go/tools/record"
)

// chanSink is a record.EventSink that hands over what it is given.
type chanSink chan *corev1.Event

func (s chanSink) Create(e *corev1.Event) (*corev1.Event, error) { s <- e; return e, nil }
func (s chanSink) Update(e *corev1.Event) (*corev1.Event, error) { s <- e; return e, nil }
func (s chanSink) Patch(e *corev1.Event, _ []byte) (*corev1.Event, error) {
	s <- e
	return e, nil
}

// TestRecordEventsFromStartToStop: the config only builds the broadcaster;
// the post-start hook writes its Events to the sink until the server stops.
func TestRecordEventsFromStartToStop(t *testing.T) {
	broadcaster := &shutdownBroadcaster{EventBroadcaster: record.NewBroadcaster(), shutdown: make(chan struct{})}
	recorder := broadcaster.NewRecorder(EventScheme(), corev1.EventSource{Component: "arl-apiserver"})
	sink := make(chanSink, 10)
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "p", UID: "uid"}}

	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	if err := recordEvents(broadcaster, sink)(genericapiserver.PostStartHookContext{Context: ctx}); err != nil {
		t.Fatal(err)
	}
	recorder.Event(pod, corev1.EventTypeNormal, "Started", "after the hook")
	select {
	case e := <-sink:
		if e.Reason != "Started" {
			t.Errorf("sink got %q, want Started", e.Reason)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("an Event recorded after the hook did not reach the sink")
	}

	stop()
	select {
	case <-broadcaster.shutdown:
	case <-time.After(10 * time.Second):
		t.Fatal("the broadcaster was not shut down when the server stopped")
	}
}

// shutdownBroadcaster says when it is shut down.
type shutdownBroadcaster struct {
	record.EventBroadcaster
	shutdown chan struct{}
}

func (b *shutdownBroadcaster) Shutdown() {
	b.EventBroadcaster.Shutdown()
	close(b.shutdown)
}
