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

package install_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/conversion"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"
	"k8s.io/apiserver/pkg/registry/rest"
	"k8s.io/utils/dump"

	"github.com/arl-infra/arl/pkg/apis/arl"
	"github.com/arl-infra/arl/pkg/apis/arl/install"
	"github.com/arl-infra/arl/pkg/apis/arl/v1alpha1"
	"github.com/arl-infra/arl/pkg/registry/arl/sandbox"
	"github.com/arl-infra/arl/pkg/registry/arl/task"
	"github.com/arl-infra/arl/pkg/registry/arl/warmpool"
)

// The server's scheme and codecs as far as ARL's kinds go
// (pkg/apiserver/scheme.go), and its storage codec.
var (
	fuzzScheme  = runtime.NewScheme()
	fuzzCodecs  = serializer.NewCodecFactory(fuzzScheme)
	storage     runtime.Codec
	internalGV  = schema.GroupVersion{Group: arl.GroupName, Version: runtime.APIVersionInternal}
	fuzzNS      = "fuzz"
	requestCtx  = genericapirequest.WithNamespace(context.Background(), fuzzNS)
	mediaTypes  = []string{runtime.ContentTypeJSON, runtime.ContentTypeYAML}
	serializers = map[string]runtime.SerializerInfo{}
)

func init() {
	install.Install(fuzzScheme)
	storage = fuzzCodecs.LegacyCodec(v1alpha1.SchemeGroupVersion)
	for _, info := range fuzzCodecs.SupportedMediaTypes() {
		serializers[info.MediaType] = info
	}
}

// storedEqual is apiequality.Semantic, except that times compare at the
// precision their wire format keeps (RFC 3339 seconds; microseconds for
// MicroTime), as they do in every Kubernetes API.
var storedEqual = conversion.EqualitiesOrDie(
	func(a, b resource.Quantity) bool { return a.Cmp(b) == 0 },
	func(a, b metav1.MicroTime) bool {
		return a.Truncate(time.Microsecond).Equal(b.Truncate(time.Microsecond))
	},
	func(a, b metav1.Time) bool { return a.Truncate(time.Second).Equal(b.Truncate(time.Second)) },
	func(a, b metav1.FieldsV1) bool { return a.Equal(b) },
)

type strategy interface {
	rest.RESTCreateStrategy
	rest.RESTUpdateStrategy
}

// apiKind is what the fuzz targets need of a kind: how the server creates
// it and how it updates its status.
type apiKind struct {
	kind           string
	newInternal    func() runtime.Object
	create, status strategy
}

var (
	taskStrategy     = task.NewStrategy(fuzzScheme)
	sandboxStrategy  = sandbox.NewStrategy(fuzzScheme)
	warmPoolStrategy = warmpool.NewStrategy(fuzzScheme, warmpool.Options{})

	taskKind     = apiKind{"Task", func() runtime.Object { return &arl.Task{} }, taskStrategy, task.NewStatusStrategy(taskStrategy)}
	sandboxKind  = apiKind{"Sandbox", func() runtime.Object { return &arl.Sandbox{} }, sandboxStrategy, sandbox.NewStatusStrategy(sandboxStrategy)}
	warmPoolKind = apiKind{"WarmPool", func() runtime.Object { return &arl.WarmPool{} }, warmPoolStrategy, warmpool.NewStatusStrategy(warmPoolStrategy)}
)

// fuzzDecode checks what the server does with a request body: decode it
// (JSON or YAML, lenient and strict) as the kind's v1alpha1 type, default
// it, convert it to the internal type, and validate it as a create and as a
// status update. Whatever the bytes: nothing panics; strict decoding accepts
// nothing lenient decoding refuses and decodes the same object; its errors
// name the fields; validation errors are 422s whose every cause names its
// field; and an object validation accepts survives storage (internal ->
// v1alpha1 -> JSON -> v1alpha1 -> internal) unchanged and valid.
func fuzzDecode(t *testing.T, k apiKind, data []byte) {
	gvk := v1alpha1.SchemeGroupVersion.WithKind(k.kind)
	for _, mt := range mediaTypes {
		info := serializers[mt]
		lenient := fuzzCodecs.DecoderToVersion(info.Serializer, internalGV)
		strict := fuzzCodecs.DecoderToVersion(info.StrictSerializer, internalGV)
		obj, _, err := lenient.Decode(data, &gvk, k.newInternal())
		strictObj, _, strictErr := strict.Decode(data, &gvk, k.newInternal())
		switch {
		case strictErr == nil && err != nil:
			t.Fatalf("%s: strict decoding accepts what lenient decoding refuses: %v", mt, err)
		case strictErr == nil && !storedEqual.DeepEqual(obj, strictObj):
			t.Fatalf("%s: strict and lenient decoding differ:\n%s\n%s", mt, dump.Pretty(obj), dump.Pretty(strictObj))
		case runtime.IsStrictDecodingError(strictErr):
			se, _ := runtime.AsStrictDecodingError(strictErr)
			for _, e := range se.Errors() {
				// JSON: unknown field "spec.x"; YAML: key "x" already set.
				if !strings.Contains(e.Error(), "field") && !strings.Contains(e.Error(), "key") {
					t.Fatalf("%s: a strict decoding error names no field: %v", mt, e)
				}
			}
		}
		if err != nil || reflect.TypeOf(obj) != reflect.TypeOf(k.newInternal()) {
			continue // refused, or another kind (the server refuses a kind its URL does not name)
		}
		checkCreate(t, k, obj.DeepCopyObject())
		checkStatusUpdate(t, k, obj.DeepCopyObject())
	}
}

// checkCreate does what the server does before it stores a new object.
func checkCreate(t *testing.T, k apiKind, obj runtime.Object) {
	meta, err := metaOf(obj)
	if err != nil {
		t.Fatal(err)
	}
	rest.FillObjectMetaSystemFields(meta)
	if meta.GetName() == "" && meta.GetGenerateName() != "" {
		meta.SetName(k.create.GenerateName(meta.GetGenerateName()))
	}
	err = rest.BeforeCreate(k.create, requestCtx, obj)
	if err != nil {
		checkAPIError(t, err)
		return
	}
	stored := obj.DeepCopyObject()
	storedMeta, _ := metaOf(stored)
	storedMeta.SetResourceVersion("1")
	if errs := k.create.ValidateUpdate(requestCtx, stored, stored); len(errs) != 0 {
		t.Fatalf("a valid %s cannot be written back unchanged: %v", k.kind, errs)
	}
	if err := roundTrip(t, k, obj); err != nil {
		t.Fatalf("a %s validation accepts does not survive storage: %v", k.kind, err)
	}
}

// checkStatusUpdate validates obj as a status write over itself (what the
// controllers write); one that validation accepts must survive storage.
func checkStatusUpdate(t *testing.T, k apiKind, obj runtime.Object) {
	meta, err := metaOf(obj)
	if err != nil {
		t.Fatal(err)
	}
	meta.SetNamespace(fuzzNS)
	meta.SetResourceVersion("1")
	rest.FillObjectMetaSystemFields(meta)
	errs := k.status.ValidateUpdate(requestCtx, obj, obj)
	if len(errs) != 0 {
		checkAPIError(t, apierrors.NewInvalid(schema.GroupKind{Group: arl.GroupName, Kind: k.kind}, meta.GetName(), errs))
		return
	}
	if err := roundTrip(t, k, obj); err != nil {
		t.Fatalf("a %s status validation accepts does not survive storage: %v", k.kind, err)
	}
}

func metaOf(obj runtime.Object) (metav1.Object, error) {
	m, ok := obj.(metav1.Object)
	if !ok {
		return nil, fmt.Errorf("%T has no ObjectMeta", obj)
	}
	return m, nil
}

// checkAPIError fails unless err is a 400 (the namespace of the request and
// the object differ) or a 422 whose every cause names its field.
func checkAPIError(t *testing.T, err error) {
	t.Helper()
	switch {
	case apierrors.IsBadRequest(err):
	case apierrors.IsInvalid(err):
		st := err.(apierrors.APIStatus).Status()
		if st.Details == nil || len(st.Details.Causes) == 0 {
			t.Fatalf("422 without causes: %v", err)
		}
		for _, c := range st.Details.Causes {
			if c.Field == "" || !strings.Contains(err.Error(), c.Field) {
				t.Fatalf("a cause of %q names no field: %+v", err, c)
			}
		}
	default:
		t.Fatalf("bad input got neither a 400 nor a 422: %v (%s)", err, apierrors.ReasonForError(err))
	}
}

// roundTrip stores obj as the server does and reads it back: the result
// must equal obj, still validate, and encode to the same bytes.
func roundTrip(t *testing.T, k apiKind, obj runtime.Object) error {
	var stored bytes.Buffer
	if err := storage.Encode(obj, &stored); err != nil {
		return fmt.Errorf("encoding: %w", err)
	}
	back, _, err := fuzzCodecs.UniversalDecoder(internalGV).Decode(stored.Bytes(), nil, k.newInternal())
	if err != nil {
		return fmt.Errorf("decoding %s: %w", stored.Bytes(), err)
	}
	if !storedEqual.DeepEqual(obj, back) {
		return fmt.Errorf("stored as %s, read back different:\n%s\nwas\n%s", stored.Bytes(), dump.Pretty(back), dump.Pretty(obj))
	}
	var again bytes.Buffer
	if err := storage.Encode(back, &again); err != nil || !bytes.Equal(stored.Bytes(), again.Bytes()) {
		return fmt.Errorf("encoded %s, then %s (%w)", stored.Bytes(), again.Bytes(), err)
	}
	return nil
}

// addSeeds adds the kind's example (artifacts/examples) in JSON and YAML
// and hostile variations of it.
func addSeeds(f *testing.F, example string, more ...string) {
	b, err := os.ReadFile("../../../../artifacts/examples/" + example)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	for _, s := range append([]string{
		``, `{}`, `null`, `[]`, `"x"`, `{"kind":`, "\xff\xfe", `---`, "a: &a [*a]",
		`{"apiVersion":"arl.infra.io/v1alpha1","kind":"Nope","metadata":{"name":"x"}}`,
		`{"apiVersion":"v1","kind":"Pod","metadata":{"name":"x"}}`,
		`{"apiVersion":"arl.infra.io/v2","metadata":{"name":"x"}}`,
		`{"metadata":{"name":"x","namespace":"other"}}`,
		`{"metadata":{"generateName":"gen-"}}`,
		`{"metadata":{"name":"A_B","labels":{"-":"x"},"annotations":{"":""}}}`,
		`{"metadata":{"name":"x","creationTimestamp":"2006-01-02T15:04:05.999999999Z"}}`,
		`{"metadata":{"name":"x","name":"y"},"unknown":1}`,
		`{"metadata":{"name":"x","managedFields":[{"manager":"m","time":"2006-01-02T15:04:05.5Z","fieldsV1":{"f:x":{}}}]}}`,
	}, more...) {
		f.Add([]byte(s))
	}
}

// FuzzDecodeTask: see fuzzDecode. Seeds: testdata/fuzz/FuzzDecodeTask and
// addSeeds. Run longer:
// go test -run '^$' -fuzz '^FuzzDecodeTask$' -fuzztime 5m ./pkg/apis/arl/install
func FuzzDecodeTask(f *testing.F) {
	addSeeds(f, "task.yaml",
		`{"metadata":{"name":"t"},"spec":{"sandboxRef":"s","steps":[{"name":"a","type":"Command","command":["x"]}]}}`,
		`{"metadata":{"name":"t"},"spec":{"sandboxRef":"s","timeout":"-1s","retries":11,"ttlSecondsAfterFinished":-1,"steps":[]}}`,
		`{"metadata":{"name":"t"},"spec":{"sandboxRef":"s","timeout":"2562047h47m16.854775807s","steps":[{"name":"a","type":"FilePatch","path":"/p","content":"\u0000\ufffd","mode":4096}]}}`,
		`{"metadata":{"name":"t"},"spec":{"sandboxRef":"S","steps":[{"name":"-a","type":"Nope","command":["\u0000"],"env":{"A=B":"\u0000","":""},"workDir":"\u0000"}]}}`,
		`{"metadata":{"name":"t"},"spec":{"sandboxRef":"s","steps":[{"name":"a","type":"Command","command":[" "]},{"name":"a","type":"Command","command":["x"],"path":"p","content":"c","mode":-1}]}}`,
		`{"metadata":{"name":"t"},"spec":{"sandboxRef":"s","retries":2147483648,"steps":null}}`,
		`{"metadata":{"name":"t"},"spec":{"sandboxRef":"s","timeout":1.5,"steps":[{"name":"a","type":"Command","command":["x"]}]}}`,
		`{"metadata":{"name":"t"},"spec":{"sandboxRef":"s","steps":[{"name":"a","type":"Command","command":["x"]}]},"status":{"state":"Succeeded","exitCode":0,"startTime":"2006-01-02T15:04:05.5Z","duration":"1.5s","steps":[{"name":"a","exitCode":-1,"pid":-1}],"conditions":[{"type":"Done","status":"True","reason":"R","lastTransitionTime":"2006-01-02T15:04:05Z"}]}}`,
		`{"metadata":{"name":"t"},"status":{"state":"Bogus","attempts":-1,"conditions":[{"type":"","status":"Maybe"}]}}`,
	)
	f.Fuzz(func(t *testing.T, data []byte) { fuzzDecode(t, taskKind, data) })
}

// FuzzDecodeSandbox: see fuzzDecode. Seeds: testdata/fuzz/FuzzDecodeSandbox
// and addSeeds. Run longer:
// go test -run '^$' -fuzz '^FuzzDecodeSandbox$' -fuzztime 5m ./pkg/apis/arl/install
func FuzzDecodeSandbox(f *testing.F) {
	addSeeds(f, "sandbox.yaml",
		`{"metadata":{"name":"s"},"spec":{"poolRef":"p","idleTimeoutSeconds":0,"maxLifetimeSeconds":-1}}`,
		`{"metadata":{"name":"s.dot"},"spec":{"poolRef":"P_"}}`,
		`{"metadata":{"name":"s"},"spec":{"poolRef":"p"},"status":{"phase":"Ready","podIP":"::1","boundTime":"2006-01-02T15:04:05.5Z","observedGeneration":-1}}`,
		`{"metadata":{"name":"s"},"status":{"phase":""}}`,
	)
	f.Fuzz(func(t *testing.T, data []byte) { fuzzDecode(t, sandboxKind, data) })
}

// FuzzDecodeWarmPool: see fuzzDecode. Seeds: testdata/fuzz/FuzzDecodeWarmPool
// and addSeeds. Run longer:
// go test -run '^$' -fuzz '^FuzzDecodeWarmPool$' -fuzztime 5m ./pkg/apis/arl/install
func FuzzDecodeWarmPool(f *testing.F) {
	addSeeds(f, "warmpool.yaml",
		`{"metadata":{"name":"p"},"spec":{"replicas":-1,"reusePolicy":"Keep","template":{"metadata":{"labels":{"arl.infra.io/x":"y"}},"spec":{"containers":[{"name":"sidecar","image":" "},{"name":"sidecar"}]}}}}`,
		`{"metadata":{"name":"p"},"spec":{"replicas":null,"template":{"spec":{"containers":[{"name":"e","image":"i","resources":{"limits":{"cpu":"1.0000000001m","memory":"1e3"}},"ports":[{"containerPort":80,"protocol":""}]}],"volumes":[{"name":"v","rbd":{"monitors":[],"image":"x"}}]}}}}`,
		`{"metadata":{"name":"p"},"spec":{"template":{"spec":{"containers":[{"name":"e","image":"i","livenessProbe":{"httpGet":{"port":"http"}},"env":[{"name":"A","valueFrom":{"fieldRef":{"fieldPath":"x"}}}]}]}}}}`,
		`{"metadata":{"name":"p"},"spec":{"template":{"spec":{"containers":[]}}},"status":{"replicas":-1,"selector":"a=b","conditions":[{"type":"Ready","status":"True","reason":"r","lastTransitionTime":"2006-01-02T15:04:05.9Z","observedGeneration":-1}]}}`,
	)
	f.Fuzz(func(t *testing.T, data []byte) { fuzzDecode(t, warmPoolKind, data) })
}
