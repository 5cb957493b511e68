// Command arl-svcproxy gives the single-node test cluster the two things that
// kube-proxy and CoreDNS give a real one, and nothing more:
//
//   - Service ClusterIPs: for every TCP port of every Service with a ClusterIP
//     it listens on ClusterIP:port (the test cluster's network namespace routes
//     the whole service CIDR to itself, `ip route add local <cidr> dev lo`) and
//     forwards each connection to a ready endpoint of the Service's
//     EndpointSlices (round robin, the next one on a failed dial). So in-cluster
//     clients (KUBERNETES_SERVICE_HOST=10.96.0.1:443, arl-etcd:2379) work
//     unmodified.
//   - Cluster DNS: A records for <service>.<namespace>.svc.<domain> (the
//     ClusterIP, or the ready endpoint IPs of a headless Service), and for
//     <hostname>.<service>.<namespace>.svc.<domain> (a headless Service's
//     endpoint with that hostname: a StatefulSet's pods) on UDP and
//     TCP port 53 of the node address, which kubelet hands to pods as their
//     nameserver (clusterDNS). Other names get NXDOMAIN: the test cluster has
//     no way out.
//
// It is a test-cluster tool (hack/cluster), a userspace proxy: no iptables,
// no NAT, no hairpin rules, nothing to clean up but its own process.
package main

import (
	"context"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/net/dns/dnsmessage"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	discoverylisters "k8s.io/client-go/listers/discovery/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"
)

func main() {
	kubeconfig := flag.String("kubeconfig", "", "kubeconfig of an identity that may list services and endpointslices")
	dnsAddr := flag.String("dns-listen", "", "host:port for the cluster DNS (UDP and TCP); empty disables it")
	domain := flag.String("cluster-domain", "cluster.local", "cluster DNS domain")
	flag.Parse()
	log.SetFlags(log.LstdFlags | log.Lmicroseconds)

	cfg, err := clientcmd.BuildConfigFromFlags("", *kubeconfig)
	if err != nil {
		log.Fatalf("kubeconfig: %v", err)
	}
	cfg.UserAgent = "arl-svcproxy"
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		log.Fatalf("client: %v", err)
	}

	ctx, cancel := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer cancel()

	factory := informers.NewSharedInformerFactory(cs, 0)
	svcInf := factory.Core().V1().Services()
	sliceInf := factory.Discovery().V1().EndpointSlices()
	p := &proxier{
		services:  svcInf.Lister(),
		slices:    sliceInf.Lister(),
		listeners: map[string]*svcListener{},
	}
	if _, err := svcInf.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj interface{}) { p.sync(obj) },
		UpdateFunc: func(_, obj interface{}) { p.sync(obj) },
		DeleteFunc: func(obj interface{}) {
			if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				obj = t.Obj
			}
			if s, ok := obj.(*corev1.Service); ok {
				p.remove(s.Namespace, s.Name, nil)
			}
		},
	}); err != nil {
		log.Fatalf("informer: %v", err)
	}
	_ = sliceInf.Informer()
	factory.Start(ctx.Done())
	for typ, ok := range factory.WaitForCacheSync(ctx.Done()) {
		if !ok {
			log.Fatalf("cache for %v did not sync", typ)
		}
	}
	log.Printf("services and endpointslices synced")

	if *dnsAddr != "" {
		d := &dnsServer{services: p.services, slices: p.slices, domain: strings.Trim(strings.ToLower(*domain), ".")}
		if err := d.listen(ctx, *dnsAddr); err != nil {
			log.Fatalf("dns: %v", err)
		}
		log.Printf("cluster DNS for %q on %s (udp, tcp)", d.domain, *dnsAddr)
	}
	log.Printf("ready")
	<-ctx.Done()
	p.closeAll()
	log.Printf("stopped")
}

// proxier keeps one TCP listener per Service ClusterIP:port.
type proxier struct {
	services corelisters.ServiceLister
	slices   discoverylisters.EndpointSliceLister

	mu        sync.Mutex
	listeners map[string]*svcListener // key: ns/name/portName
}

type svcListener struct {
	ns, name, portName string
	addr               string // ClusterIP:port
	ln                 net.Listener
	next               atomic.Uint64
}

func (p *proxier) sync(obj interface{}) {
	s, ok := obj.(*corev1.Service)
	if !ok {
		return
	}
	want := map[string]string{} // key -> addr
	ip := s.Spec.ClusterIP
	if ip != "" && ip != corev1.ClusterIPNone && s.Spec.Type != corev1.ServiceTypeExternalName {
		for _, sp := range s.Spec.Ports {
			if sp.Protocol != "" && sp.Protocol != corev1.ProtocolTCP {
				continue
			}
			want[key(s.Namespace, s.Name, sp.Name)] = net.JoinHostPort(ip, strconv.Itoa(int(sp.Port)))
		}
	}
	p.remove(s.Namespace, s.Name, want)

	p.mu.Lock()
	defer p.mu.Unlock()
	for k, addr := range want {
		if l, ok := p.listeners[k]; ok && l.addr == addr {
			continue
		}
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			log.Printf("service %s/%s: listen %s: %v", s.Namespace, s.Name, addr, err)
			continue
		}
		portName := k[strings.LastIndex(k, "/")+1:]
		l := &svcListener{ns: s.Namespace, name: s.Name, portName: portName, addr: addr, ln: ln}
		p.listeners[k] = l
		log.Printf("service %s/%s port %q: proxying %s", s.Namespace, s.Name, portName, addr)
		go p.serve(l)
	}
}

// remove closes the listeners of ns/name whose key is not in keep.
func (p *proxier) remove(ns, name string, keep map[string]string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	prefix := ns + "/" + name + "/"
	for k, l := range p.listeners {
		if !strings.HasPrefix(k, prefix) {
			continue
		}
		if addr, ok := keep[k]; ok && addr == l.addr {
			continue
		}
		_ = l.ln.Close()
		delete(p.listeners, k)
		log.Printf("service %s/%s port %q: stopped %s", ns, name, l.portName, l.addr)
	}
}

func (p *proxier) closeAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for k, l := range p.listeners {
		_ = l.ln.Close()
		delete(p.listeners, k)
	}
}

func key(ns, name, port string) string { return ns + "/" + name + "/" + port }

func (p *proxier) serve(l *svcListener) {
	for {
		c, err := l.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			log.Printf("%s: accept: %v", l.addr, err)
			time.Sleep(100 * time.Millisecond)
			continue
		}
		go p.forward(l, c)
	}
}

// endpoints returns the ready host:port backends of a service port.
func (p *proxier) endpoints(ns, name, portName string) []string {
	sel := labels.SelectorFromSet(labels.Set{discoveryv1.LabelServiceName: name})
	slices, err := p.slices.EndpointSlices(ns).List(sel)
	if err != nil {
		return nil
	}
	var out []string
	for _, sl := range slices {
		if sl.AddressType != discoveryv1.AddressTypeIPv4 {
			continue
		}
		var port int32 = -1
		for _, sp := range sl.Ports {
			n := ""
			if sp.Name != nil {
				n = *sp.Name
			}
			if n == portName && sp.Port != nil {
				port = *sp.Port
			}
		}
		if port < 0 {
			continue
		}
		for _, ep := range sl.Endpoints {
			if ep.Conditions.Ready != nil && !*ep.Conditions.Ready {
				continue
			}
			for _, a := range ep.Addresses {
				out = append(out, net.JoinHostPort(a, strconv.Itoa(int(port))))
			}
		}
	}
	return out
}

func (p *proxier) forward(l *svcListener, c net.Conn) {
	defer func() { _ = c.Close() }()
	eps := p.endpoints(l.ns, l.name, l.portName)
	if len(eps) == 0 {
		log.Printf("service %s/%s port %q: no ready endpoints", l.ns, l.name, l.portName)
		return
	}
	start := int(l.next.Add(1))
	var up net.Conn
	var err error
	for i := range eps {
		ep := eps[(start+i)%len(eps)]
		up, err = net.DialTimeout("tcp", ep, 5*time.Second)
		if err == nil {
			break
		}
		log.Printf("service %s/%s: dial %s: %v", l.ns, l.name, ep, err)
	}
	if up == nil {
		return
	}
	defer func() { _ = up.Close() }()
	done := make(chan struct{}, 2)
	pipe := func(dst, src net.Conn) {
		_, _ = io.Copy(dst, src)
		if tc, ok := dst.(*net.TCPConn); ok {
			_ = tc.CloseWrite()
		}
		done <- struct{}{}
	}
	go pipe(up, c)
	go pipe(c, up)
	<-done
	<-done
}

// dnsServer answers A (and empty AAAA) queries for Services.
type dnsServer struct {
	services corelisters.ServiceLister
	slices   discoverylisters.EndpointSliceLister
	domain   string
}

func (d *dnsServer) listen(ctx context.Context, addr string) error {
	pc, err := net.ListenPacket("udp", addr)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		_ = pc.Close()
		return err
	}
	go func() { <-ctx.Done(); _ = pc.Close(); _ = ln.Close() }()
	go func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				if errors.Is(err, net.ErrClosed) {
					return
				}
				continue
			}
			if out := d.answer(buf[:n], 512); out != nil {
				_, _ = pc.WriteTo(out, from)
			}
		}
	}()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				if errors.Is(err, net.ErrClosed) {
					return
				}
				continue
			}
			go d.serveTCP(c)
		}
	}()
	return nil
}

func (d *dnsServer) serveTCP(c net.Conn) {
	defer func() { _ = c.Close() }()
	for {
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		var n uint16
		if err := binary.Read(c, binary.BigEndian, &n); err != nil {
			return
		}
		msg := make([]byte, n)
		if _, err := io.ReadFull(c, msg); err != nil {
			return
		}
		out := d.answer(msg, 65535)
		if out == nil {
			return
		}
		if err := binary.Write(c, binary.BigEndian, uint16(len(out))); err != nil {
			return
		}
		if _, err := c.Write(out); err != nil {
			return
		}
	}
}

func (d *dnsServer) answer(req []byte, max int) []byte {
	var p dnsmessage.Parser
	h, err := p.Start(req)
	if err != nil {
		return nil
	}
	q, err := p.Question()
	if err != nil {
		return nil
	}
	resp := dnsmessage.Header{ID: h.ID, Response: true, Authoritative: true, RecursionDesired: h.RecursionDesired}
	name := strings.TrimSuffix(strings.ToLower(q.Name.String()), ".")
	ips, found := d.lookup(name)
	if !found {
		resp.RCode = dnsmessage.RCodeNameError
	}
	b := dnsmessage.NewBuilder(make([]byte, 0, 512), resp)
	b.EnableCompression()
	_ = b.StartQuestions()
	_ = b.Question(q)
	_ = b.StartAnswers()
	if found && (q.Type == dnsmessage.TypeA || q.Type == dnsmessage.TypeALL) {
		for _, ip := range ips {
			var a [4]byte
			copy(a[:], ip.To4())
			_ = b.AResource(dnsmessage.ResourceHeader{Name: q.Name, Class: dnsmessage.ClassINET, TTL: 5}, dnsmessage.AResource{A: a})
		}
	}
	out, err := b.Finish()
	if err != nil || len(out) > max {
		return nil
	}
	return out
}

// lookup resolves <svc>.<ns>.svc.<domain>; found is false for every other name.
func (d *dnsServer) lookup(name string) ([]net.IP, bool) {
	suffix := ".svc." + d.domain
	if !strings.HasSuffix(name, suffix) {
		return nil, false
	}
	parts := strings.Split(strings.TrimSuffix(name, suffix), ".")
	hostname := ""
	if len(parts) == 3 {
		hostname, parts = parts[0], parts[1:]
	}
	if len(parts) != 2 {
		return nil, false
	}
	svc, err := d.services.Services(parts[1]).Get(parts[0])
	if err != nil {
		return nil, false
	}
	if hostname != "" {
		return d.hostnameIPs(svc, hostname)
	}
	if svc.Spec.ClusterIP != "" && svc.Spec.ClusterIP != corev1.ClusterIPNone {
		if ip := net.ParseIP(svc.Spec.ClusterIP).To4(); ip != nil {
			return []net.IP{ip}, true
		}
		return nil, true
	}
	var ips []net.IP
	sel := labels.SelectorFromSet(labels.Set{discoveryv1.LabelServiceName: svc.Name})
	slices, _ := d.slices.EndpointSlices(svc.Namespace).List(sel)
	for _, sl := range slices {
		for _, ep := range sl.Endpoints {
			if ep.Conditions.Ready != nil && !*ep.Conditions.Ready {
				continue
			}
			for _, a := range ep.Addresses {
				if ip := net.ParseIP(a).To4(); ip != nil {
					ips = append(ips, ip)
				}
			}
		}
	}
	return ips, true
}

// hostnameIPs resolves a headless Service's endpoint by its hostname,
// ready or not (a StatefulSet's members find each other before they are
// ready; publishNotReadyAddresses makes the endpoint say so anyway).
func (d *dnsServer) hostnameIPs(svc *corev1.Service, hostname string) ([]net.IP, bool) {
	if svc.Spec.ClusterIP != corev1.ClusterIPNone {
		return nil, false
	}
	sel := labels.SelectorFromSet(labels.Set{discoveryv1.LabelServiceName: svc.Name})
	slices, _ := d.slices.EndpointSlices(svc.Namespace).List(sel)
	for _, sl := range slices {
		for _, ep := range sl.Endpoints {
			if ep.Hostname == nil || *ep.Hostname != hostname {
				continue
			}
			var ips []net.IP
			for _, a := range ep.Addresses {
				if ip := net.ParseIP(a).To4(); ip != nil {
					ips = append(ips, ip)
				}
			}
			return ips, true
		}
	}
	return nil, false
}

func init() {
	flag.Usage = func() {
		fmt.Fprintf(os.Stderr, "usage: %s --kubeconfig FILE [--dns-listen IP:53] [--cluster-domain cluster.local]\n", os.Args[0])
		flag.PrintDefaults()
	}
}
