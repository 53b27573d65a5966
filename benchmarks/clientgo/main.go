// Command kubecodegen-clientgo-bench is the client-go peer of kubecodegen's `make bench`.
//
// It is built by scripts/build-clientgo-bench.sh against the client-go that the kube-apiserver
// v1.20.2 source tree vendors, and driven by benchmarks/clientgo.py. Both measurements use
// client-go the way its documentation shows: a typed Clientset from a rest.Config, and a
// SharedInformerFactory. The wire format is the only knob: "json" (client-go's default) or
// "protobuf" (rest.Config.ContentType = application/vnd.kubernetes.protobuf).
//
// Modes (the first argument); the connection settings and the token arrive as one JSON object on
// stdin, never on the command line, so the token does not show in ps:
//
//	version            print the client-go build and exit (the build script's smoke test)
//	list <format>      serve list requests: one JSON command per stdin line after the settings,
//	                   one JSON answer per stdout line, until stdin closes
//	informer <format>  start a pod informer once, wait until synced, print one JSON answer
//
// Times are measured inside this process around the call itself (wall clock, monotonic), so the
// pipe to the Python driver is not part of them. Memory: Go's live heap is runtime.MemStats
// HeapAlloc right after a forced collection, with the result (or the informer's store) still
// referenced, minus the same figure taken just before the call; peak RSS is VmHWM of this process.
package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
)

const (
	protobufType = "application/vnd.kubernetes.protobuf"
	syncTimeout  = 120 * time.Second
	// HasSynced is polled this often: client-go's own WaitForCacheSync polls every 100 ms, which
	// would round every measurement up to a tenth of a second.
	syncPoll = time.Millisecond
)

// settings is what the driver sends on stdin's first line.
type settings struct {
	Server    string `json:"server"`
	CAFile    string `json:"ca_file"`
	Token     string `json:"token"`
	Namespace string `json:"namespace"`
	Expected  int    `json:"expected"`
}

// request is one response the server sent, as seen by the transport under client-go.
type request struct {
	Query       string `json:"query"`
	ContentType string `json:"content_type"`
	Gzip        bool   `json:"gzip"`
}

// recorder logs every response client-go receives; the driver shows how each peer was served.
type recorder struct {
	mu   sync.Mutex
	seen []request
	next http.RoundTripper
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := r.next.RoundTrip(req)
	if err == nil {
		r.mu.Lock()
		r.seen = append(r.seen, request{
			Query:       req.URL.RawQuery,
			ContentType: resp.Header.Get("Content-Type"),
			// net/http asked for gzip itself and inflated the body: Uncompressed says so.
			Gzip: resp.Uncompressed || resp.Header.Get("Content-Encoding") == "gzip",
		})
		r.mu.Unlock()
	}
	return resp, err
}

func (r *recorder) take() []request {
	r.mu.Lock()
	defer r.mu.Unlock()
	seen := r.seen
	r.seen = nil
	return seen
}

func config(s settings, format string, rec *recorder) (*rest.Config, error) {
	cfg := &rest.Config{
		Host:            s.Server,
		BearerToken:     s.Token,
		TLSClientConfig: rest.TLSClientConfig{CAFile: s.CAFile},
		WrapTransport: func(rt http.RoundTripper) http.RoundTripper {
			rec.next = rt
			return rec
		},
	}
	switch format {
	case "json":
	case "protobuf":
		cfg.ContentType = protobufType
	default:
		return nil, fmt.Errorf("unknown format %q (json or protobuf)", format)
	}
	return cfg, nil
}

// digest is the SHA-256 of the sorted names joined by newlines: the driver computes the same.
func digest(names []string) string {
	sort.Strings(names)
	sum := sha256.Sum256([]byte(strings.Join(names, "\n")))
	return hex.EncodeToString(sum[:])
}

func liveHeap() int64 {
	runtime.GC()
	var stats runtime.MemStats
	runtime.ReadMemStats(&stats)
	return int64(stats.HeapAlloc)
}

// procStatus reads one "<key>: <n> kB" line of /proc/self/status, in bytes (0 if unknown).
func procStatus(key string) uint64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if !strings.HasPrefix(line, key+":") {
			continue
		}
		fields := strings.Fields(line[len(key)+1:])
		if len(fields) == 0 {
			return 0
		}
		kb, err := strconv.ParseUint(fields[0], 10, 64)
		if err != nil {
			return 0
		}
		return kb * 1024
	}
	return 0
}

func emit(out *bufio.Writer, answer interface{}) error {
	data, err := json.Marshal(answer)
	if err != nil {
		return err
	}
	if _, err := out.Write(append(data, '\n')); err != nil {
		return err
	}
	return out.Flush()
}

// listCommand is one line of the list mode's protocol.
type listCommand struct {
	// Memory: also measure the live heap with the list held (slower; not in timed calls).
	Memory bool `json:"memory"`
}

type listAnswer struct {
	Seconds   float64   `json:"seconds"`
	Names     []string  `json:"names"`
	Digest    string    `json:"digest"`
	Requests  []request `json:"requests"`
	LiveHeap  int64     `json:"live_heap,omitempty"`
	PeakRSS   uint64    `json:"peak_rss"`
	GoVersion string    `json:"go_version"`
}

func serveLists(s settings, format string, in *bufio.Scanner, out *bufio.Writer) error {
	rec := &recorder{}
	cfg, err := config(s, format, rec)
	if err != nil {
		return err
	}
	clientset, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	pods := clientset.CoreV1().Pods(s.Namespace)
	for in.Scan() {
		var cmd listCommand
		if err := json.Unmarshal(in.Bytes(), &cmd); err != nil {
			return fmt.Errorf("bad command: %w", err)
		}
		before := liveHeap() // also frees the previous list, as the Python side does
		rec.take()
		start := time.Now()
		list, err := pods.List(context.Background(), metav1.ListOptions{})
		elapsed := time.Since(start)
		if err != nil {
			return err
		}
		answer := listAnswer{Seconds: elapsed.Seconds(), Requests: rec.take(),
			GoVersion: runtime.Version()}
		if cmd.Memory {
			answer.LiveHeap = liveHeap() - before
		}
		answer.Names = make([]string, 0, len(list.Items))
		for i := range list.Items {
			answer.Names = append(answer.Names, list.Items[i].Name)
		}
		runtime.KeepAlive(list) // held until its live heap and names were taken
		answer.Digest = digest(append([]string(nil), answer.Names...))
		answer.PeakRSS = procStatus("VmHWM")
		if err := emit(out, answer); err != nil {
			return err
		}
	}
	return in.Err()
}

type informerAnswer struct {
	Seconds  float64   `json:"seconds"`
	Pods     int       `json:"pods"`
	Digest   string    `json:"digest"`
	LiveHeap int64     `json:"live_heap"`
	RSS      int64     `json:"rss"`
	PeakRSS  uint64    `json:"peak_rss"`
	Requests []request `json:"requests"`
	Closed   bool      `json:"closed"`
}

func syncInformer(s settings, format string, out *bufio.Writer) error {
	rec := &recorder{}
	cfg, err := config(s, format, rec)
	if err != nil {
		return err
	}
	clientset, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	factory := informers.NewSharedInformerFactoryWithOptions(clientset, 0,
		informers.WithNamespace(s.Namespace))
	informer := factory.Core().V1().Pods().Informer()
	stop := make(chan struct{})

	before := liveHeap()
	rssBefore := procStatus("VmRSS")
	start := time.Now()
	factory.Start(stop)
	deadline := start.Add(syncTimeout)
	for !informer.HasSynced() {
		if time.Now().After(deadline) {
			close(stop)
			return fmt.Errorf("pod informer not synced after %s", syncTimeout)
		}
		time.Sleep(syncPoll)
	}
	elapsed := time.Since(start)
	answer := informerAnswer{Seconds: elapsed.Seconds()}
	answer.LiveHeap = liveHeap() - before // the store is referenced by the running informer
	answer.RSS = int64(procStatus("VmRSS")) - int64(rssBefore)
	answer.PeakRSS = procStatus("VmHWM")

	names := make([]string, 0, s.Expected)
	for _, key := range informer.GetStore().ListKeys() {
		_, name, err := cache.SplitMetaNamespaceKey(key)
		if err != nil {
			return err
		}
		names = append(names, name)
	}
	answer.Pods = len(names)
	answer.Digest = digest(names)
	answer.Requests = rec.take()
	close(stop)
	answer.Closed = true
	runtime.KeepAlive(informer)
	return emit(out, answer)
}

func run(args []string) error {
	if len(args) == 1 && args[0] == "version" {
		fmt.Printf("kubecodegen-clientgo-bench %s\n", runtime.Version())
		return nil
	}
	if len(args) != 2 {
		return errors.New("usage: kubecodegen-clientgo-bench version | list <json|protobuf> | informer <json|protobuf>")
	}
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<16), 1<<20)
	if !in.Scan() {
		return errors.New("no settings on stdin")
	}
	var s settings
	if err := json.Unmarshal(in.Bytes(), &s); err != nil {
		return fmt.Errorf("bad settings: %w", err)
	}
	out := bufio.NewWriter(os.Stdout)
	switch args[0] {
	case "list":
		return serveLists(s, args[1], in, out)
	case "informer":
		return syncInformer(s, args[1], out)
	}
	return fmt.Errorf("unknown mode %q", args[0])
}

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "kubecodegen-clientgo-bench:", err)
		os.Exit(1)
	}
}
