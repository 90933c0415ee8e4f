package server

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/voicehook/voicehook/internal/engine"
	"github.com/voicehook/voicehook/internal/store/postgres"
)

// Several nodes share one PostgreSQL database. Each holds a lease that it
// renews every fifth of Config.Lease; each call belongs to the node that
// created it. A request for a call of another live node is forwarded to
// it (forward). When a node's lease expires, a survivor adopts its calls:
// the webhooks they had queued are delivered, and each live call ends with
// its one disconnect, cause error, naming the failed node. A node that
// finds its own lease lost (it froze, or lost the database, for longer
// than the lease) stops at once: its calls are another's now, and the
// store refuses its writes to them.

// DefaultLease is how long a node's lease lasts unrenewed (--node-lease).
const DefaultLease = 10 * time.Second

// The headers of a request one node forwards to another: the forwarding
// node's id, which stops a second hop, and the cluster's secret.
const (
	hopHeader    = "Voicehook-Forwarded-By"
	secretHeader = "Voicehook-Cluster-Secret"
)

// cluster is this node's part in a cluster of nodes on one database.
type cluster struct {
	pg     *postgres.Store
	id     string
	url    string
	secret string
	lease  time.Duration
	log    *slog.Logger
	proxy  *httputil.ReverseProxy
	client *http.Client // to the other nodes

	mu sync.Mutex
	// valid is until when this node may act on its calls, by its own
	// clocks (see current): the lease's start as sent, plus the lease,
	// less a margin. Past it the node sends no webhook: another may have adopted
	// the calls.
	valid time.Time
	eng   *engine.Engine
	// renewing is held by a renewal made out of turn (holds).
	renewing sync.Mutex
	// adopting is false once the node stops: it takes no more calls.
	adopting atomic.Bool
	lost     chan struct{}
	once     sync.Once
	stop     context.CancelFunc
	// done is closed once run's goroutines (renewals, adoptions, poll)
	// have returned.
	done chan struct{}
}

// How often a node looks for the calls that changed on the others, how
// far back it looks again each time (ids are given at insert, not at
// commit: a slow transaction's entries may land behind the last one
// seen), and how many calls it takes at once.
const (
	pollEvery   = time.Second
	pollOverlap = 1000
	pollLimit   = 10000
)

// poll tells changed of the calls whose history grew on any node (this
// node's own are told by its engine already; twice does no harm).
func (c *cluster) poll(ctx context.Context, changed func(string)) {
	last := int64(-1) // not known yet: start from the newest entry
	tick := time.NewTicker(pollEvery)
	defer tick.Stop()
	for {
		if last < 0 {
			if _, newest, err := c.pg.Touched(ctx, -1, 0); err == nil {
				last = newest
			} else if ctx.Err() == nil {
				c.log.Warn("follow the other nodes' calls", "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if last < 0 {
			continue
		}
		ids, seen, err := c.pg.Touched(ctx, max(0, last-pollOverlap), pollLimit)
		if err != nil {
			if ctx.Err() == nil {
				c.log.Warn("follow the other nodes' calls", "err", err)
			}
			continue
		}
		last = max(last, seen)
		for _, id := range ids {
			changed(id)
		}
	}
}

// joinCluster registers the node, before the engine starts: the engine
// then finds the calls an earlier life of this node left.
func joinCluster(ctx context.Context, pg *postgres.Store, cfg Config) (*cluster, error) {
	c := &cluster{pg: pg, id: cfg.Node, url: cfg.AdvertiseURL, secret: cfg.ClusterSecret, lease: cfg.Lease,
		log: cfg.Logger.With("part", "cluster", "node", cfg.Node), lost: make(chan struct{}), done: make(chan struct{})}
	// A node killed and started again finds its earlier life's lease
	// held until it runs out: it waits for that, once.
	var epoch int64
	deadline := time.Now().Add(c.lease + time.Second)
	for {
		sent := time.Now()
		var err error
		if epoch, err = pg.Join(ctx, c.id, c.url, c.lease); err == nil {
			c.renewed(sent)
			break
		}
		if !errors.Is(err, postgres.ErrNodeTaken) || time.Now().After(deadline) {
			if errors.Is(err, postgres.ErrNodeTaken) {
				err = fmt.Errorf("%w: another voicehook runs as node %s; give each node its own --node", err, c.id)
			}
			return nil, err
		}
		c.log.Info("waiting for the lease of this node's earlier life to run out", "err", err)
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
	c.adopting.Store(true)
	c.log.Info("joined the cluster", "epoch", epoch, "url", c.url, "lease", c.lease)
	// Between nodes: no proxy from the environment (the secret stays
	// inside the cluster), and a node that does not answer is given up
	// on soon.
	transport := &http.Transport{
		Proxy:                 nil,
		DialContext:           (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		ResponseHeaderTimeout: 60 * time.Second,
		IdleConnTimeout:       90 * time.Second,
		MaxIdleConnsPerHost:   64,
	}
	c.client = &http.Client{Transport: transport, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	c.proxy = &httputil.ReverseProxy{
		Transport: transport,
		Rewrite: func(r *httputil.ProxyRequest) {
			target, _ := url.Parse(r.In.Context().Value(ownerKey{}).(owner).url)
			r.SetURL(target)
			r.Out.Host = r.In.Host
			r.Out.Header.Set(hopHeader, c.id)
			r.Out.Header.Set(secretHeader, c.secret)
			r.SetXForwarded()
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			o, _ := r.Context().Value(ownerKey{}).(owner)
			c.log.Warn("forward a request to the call's node", "owner", o.node, "path", r.URL.Path, "err", err)
			writeClusterError(w, http.StatusBadGateway, "service-unavailable",
				fmt.Sprintf("It belongs to voicehook node %s, which did not answer: %v", o.node, err))
		},
	}
	return c, nil
}

// owner is the node a forwarded request goes to, carried to the proxy in
// the request's context under ownerKey.
type (
	owner    struct{ node, url string }
	ownerKey struct{}
)

// renewMargin is how much sooner than the database a node gives up its
// lease: clocks run at slightly different rates.
const renewMargin = 500 * time.Millisecond

// renewed records a renewal sent at sent.
func (c *cluster) renewed(sent time.Time) {
	c.mu.Lock()
	c.valid = sent.Add(c.lease - renewMargin)
	c.mu.Unlock()
}

// current reports whether the node's lease still holds by its own clock:
// by the monotonic clock, which no clock step moves, and by the wall
// clock, which moves on while a virtual machine is suspended (the
// monotonic one does not).
func (c *cluster) current() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now()
	return now.Before(c.valid) && now.Round(0).Before(c.valid.Round(0))
}

// holds reports whether the node may act on its calls: its lease holds by
// its own clock, or, having run out (the node slept, or the database was
// slow), it could be renewed now — which the database allows only while
// no other node has adopted the calls. A lease found lost stops the node.
func (c *cluster) holds(ctx context.Context) bool {
	if c.current() {
		return true
	}
	c.renewing.Lock()
	defer c.renewing.Unlock()
	if c.current() {
		return true // renewed while this one waited
	}
	err := c.renew(ctx)
	switch {
	case err == nil:
		return true
	case errors.Is(err, postgres.ErrLeaseLost):
		c.loseLease(err)
	}
	return false
}

// lostLease reports whether the node found its lease lost.
func (c *cluster) lostLease() bool {
	select {
	case <-c.lost:
		return true
	default:
		return false
	}
}

// loseLease stops the node: another node has its calls.
func (c *cluster) loseLease(err error) {
	c.once.Do(func() {
		c.log.Error("this node lost its lease: another node adopted its calls, or another process joined as this node; stopping", "err", err)
		close(c.lost)
	})
}

// run renews the lease and adopts the calls of nodes whose lease expired,
// and tells changed of the calls that change on any node (the console),
// until Close. Adoption has a goroutine of its own, told after each
// renewal to look for expired nodes: adopting thousands of calls takes
// longer than the margin of a short lease, and the renewals must go on
// meanwhile, or this node would stop sending the webhooks of the calls it
// adopts.
func (c *cluster) run(eng *engine.Engine, changed func(callID string)) {
	c.eng = eng
	ctx, cancel := context.WithCancel(context.Background())
	c.stop = cancel
	look := make(chan struct{}, 1)
	var wg sync.WaitGroup
	wg.Go(func() { c.poll(ctx, changed) })
	wg.Go(func() {
		tick := time.NewTicker(c.lease / 5)
		defer tick.Stop()
		healthy := time.Now() // held since: the node just joined
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			err := c.renew(ctx)
			switch {
			case err == nil:
			case errors.Is(err, postgres.ErrLeaseLost):
				c.loseLease(err)
				cancel() // and adopt nothing more
				return
			case ctx.Err() != nil:
				return
			default:
				c.log.Warn("renew the lease", "err", err)
				healthy = time.Time{}
				continue
			}
			if healthy.IsZero() {
				healthy = time.Now()
			}
			// A node adopts only once it has held its lease for a whole
			// lease: one that was itself cut off from the database must
			// not take for dead the nodes that were not.
			if c.adopting.Load() && time.Since(healthy) >= c.lease {
				select {
				case look <- struct{}{}:
				default: // an adoption is under way, and looks again after
				}
			}
		}
	})
	wg.Go(func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-look:
			}
			c.adoptExpired(ctx)
		}
	})
	go func() {
		wg.Wait()
		close(c.done)
	}()
}

// renew renews the lease, bounded by a tick: a renewal that hangs must not
// keep the node from noticing its lease ran out.
func (c *cluster) renew(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, c.lease/5)
	defer cancel()
	sent := time.Now()
	if err := c.pg.Renew(ctx, c.lease); err != nil {
		return err
	}
	c.renewed(sent)
	return nil
}

// stopAdopting keeps a node that is stopping from taking other nodes'
// calls, which it could no longer end.
func (c *cluster) stopAdopting() { c.adopting.Store(false) }

// adoptExpired adopts the calls of every node whose lease has expired.
func (c *cluster) adoptExpired(ctx context.Context) {
	expired, err := c.pg.Expired(ctx)
	if err != nil {
		c.log.Warn("look for failed nodes", "err", err)
		return
	}
	for _, dead := range expired {
		a, ok, err := c.pg.Adopt(ctx, dead)
		if err != nil {
			c.log.Error("adopt the calls of a failed node", "failed", dead, "err", err)
			continue
		}
		if !ok {
			continue // another node won, or it came back
		}
		c.log.Warn("adopted the calls of a failed node", "failed", dead, "live_calls", len(a.Live), "queued_webhooks", len(a.Queued))
		c.eng.Adopt(a.Live, a.Queued, fmt.Sprintf("voicehook node %s failed (its lease expired); node %s ended the call", dead, c.id))
	}
}

// close stops renewing and ends the lease: a node with no call of its
// own left live and no webhook queued leaves the cluster; one with either
// ends its lease now, so that a survivor, or this node started again,
// takes them at once.
func (c *cluster) close(ctx context.Context) error {
	c.stopAdopting()
	if c.stop != nil {
		c.stop()
		<-c.done
	}
	if c.lostLease() {
		return nil
	}
	left, err := c.pg.Leave(ctx)
	if err == nil && !left {
		c.log.Warn("stopping with calls live or webhooks queued: another node takes them now, or this one when it starts again")
	}
	return err
}

// forward sends a request for a call of another live node to that node,
// and serves the others. A request another node forwarded is served here,
// once its secret is checked.
func (c *cluster) forward(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if from := r.Header.Get(hopHeader); from != "" {
			if subtle.ConstantTimeCompare([]byte(r.Header.Get(secretHeader)), []byte(c.secret)) != 1 {
				writeClusterError(w, http.StatusForbidden, "forbidden",
					fmt.Sprintf("The request says voicehook node %s forwarded it, but its %s header is not this cluster's secret (VOICEHOOK_CLUSTER_SECRET)", from, secretHeader))
				return
			}
			r.Header.Del(secretHeader)
			next.ServeHTTP(w, r)
			return
		}
		if strings.HasPrefix(r.URL.Path, "/sim/v1/phones/") && (r.Method == http.MethodPut || r.Method == http.MethodDelete) {
			c.everywhere(w, r, next)
			return
		}
		var (
			node, u string
			live    bool
			err     error
		)
		switch kind, id := ownedByPath(r.URL.Path); kind {
		case "call":
			if c.eng.Carries(id) {
				next.ServeHTTP(w, r) // live here: no need to ask
				return
			}
			node, u, live, err = c.pg.Owner(r.Context(), id)
		case "conference":
			node, u, live, err = c.pg.ConferenceOwner(r.Context(), id)
		default:
			next.ServeHTTP(w, r)
			return
		}
		if err == nil && node != c.id && !live && u != "" && r.Method != http.MethodGet && r.Method != http.MethodHead {
			// Its node's lease ran out, and no node has adopted it yet:
			// a change must wait for that.
			w.Header().Set("Retry-After", strconv.Itoa(int(c.lease/time.Second)+1))
			writeClusterError(w, http.StatusServiceUnavailable, "service-unavailable",
				fmt.Sprintf("It belongs to voicehook node %s, which stopped renewing its lease; another node ends its calls within %v: try again then", node, c.lease))
			return
		}
		if err != nil || node == c.id || !live || u == "" {
			// Unknown calls, reads of a node's calls in its last moments,
			// and calls of a node gone, are answered here: the database
			// has all there is to know of them.
			next.ServeHTTP(w, r)
			return
		}
		ctx := context.WithValue(r.Context(), ownerKey{}, owner{node: node, url: u})
		c.proxy.ServeHTTP(w, r.WithContext(ctx))
	})
}

// ownedByPath returns what a path names that a node owns: a call
// (/api/v2/accounts/{a}/calls/{id}…, /sim/v1/calls/{id}/…) or a conference
// (/api/v2/accounts/{a}/conferences/{id}…), and its id; "" for any other.
func ownedByPath(p string) (kind, id string) {
	parts := strings.Split(strings.Trim(p, "/"), "/")
	switch {
	case len(parts) >= 6 && parts[0] == "api" && parts[1] == "v2" && parts[2] == "accounts" && parts[4] == "calls":
		return "call", parts[5]
	case len(parts) >= 6 && parts[0] == "api" && parts[1] == "v2" && parts[2] == "accounts" && parts[4] == "conferences":
		return "conference", parts[5]
	case len(parts) >= 4 && parts[0] == "sim" && parts[1] == "v1" && parts[2] == "calls":
		return "call", parts[3]
	}
	return "", ""
}

// everywhere serves a change to the simulated phones here, then sends it
// to every other live node, so that a call placed on any node finds the
// phone as scripted. The answer is this node's, unless a node did not
// take the change: then it is 502, naming them.
func (c *cluster) everywhere(w http.ResponseWriter, r *http.Request, next http.Handler) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxPhoneBody))
	if err != nil {
		writeClusterError(w, http.StatusRequestEntityTooLarge, "validation", fmt.Sprintf("The phone's script is too large: %v", err))
		return
	}
	here := &recorder{header: http.Header{}, code: http.StatusOK}
	local := r.Clone(r.Context())
	local.Body = io.NopCloser(bytes.NewReader(body))
	next.ServeHTTP(here, local)
	if here.code/100 == 2 {
		if failed := c.tellOthers(r, body); len(failed) > 0 {
			writeClusterError(w, http.StatusBadGateway, "service-unavailable",
				fmt.Sprintf("The phone changed on this node, but not on: %s", strings.Join(failed, "; ")))
			return
		}
	}
	for k, v := range here.header {
		w.Header()[k] = v
	}
	w.WriteHeader(here.code)
	_, _ = w.Write(here.body.Bytes())
}

// recorder keeps a response, to pass on once the other nodes answered.
type recorder struct {
	header http.Header
	code   int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header         { return r.header }
func (r *recorder) WriteHeader(code int)        { r.code = code }
func (r *recorder) Write(b []byte) (int, error) { return r.body.Write(b) }

// maxPhoneBody bounds a phone's script sent to every node.
const maxPhoneBody = 1 << 20

// tellOthers sends a request to every other live node, and returns what
// failed, node by node.
func (c *cluster) tellOthers(r *http.Request, body []byte) []string {
	nodes, err := c.pg.Nodes(r.Context())
	if err != nil {
		return []string{err.Error()}
	}
	var failed []string
	for _, n := range nodes {
		if n.ID == c.id || n.LeaseUntil.Before(time.Now()) {
			continue
		}
		ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
		req, err := http.NewRequestWithContext(ctx, r.Method, strings.TrimSuffix(n.URL, "/")+r.URL.RequestURI(), bytes.NewReader(body))
		if err == nil {
			req.Header = r.Header.Clone()
			req.Header.Set(hopHeader, c.id)
			req.Header.Set(secretHeader, c.secret)
			var resp *http.Response
			if resp, err = c.client.Do(req); err == nil {
				_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
				resp.Body.Close()
				// A phone a node never had scripted is as good as reset.
				if resp.StatusCode/100 != 2 && (r.Method != http.MethodDelete || resp.StatusCode != http.StatusNotFound) {
					err = fmt.Errorf("%s", resp.Status)
				}
			}
		}
		cancel()
		if err != nil {
			failed = append(failed, fmt.Sprintf("node %s: %v", n.ID, err))
		}
	}
	return failed
}

// writeClusterError answers with a body of the API's error form.
func writeClusterError(w http.ResponseWriter, status int, kind, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"type": kind, "description": msg, "id": nil})
}

// fencedSender sends webhooks only while this node's lease holds: a node
// that woke up after its lease expired must not speak for calls another
// node adopted, but a node alone, or one no other has adopted from yet,
// renews its lease and goes on.
type fencedSender struct {
	engine.Sender
	c *cluster
}

func (f fencedSender) refused() error {
	return fmt.Errorf("voicehook node %s may not send the webhook: it lost its lease, and another node adopted its calls: %w", f.c.id, engine.ErrNotOwner)
}

// wait waits until the node's lease holds, which it does at once but when
// the node cannot reach the database: then it tries again every second.
// It returns refused once the lease is lost, or ctx's error.
func (f fencedSender) wait(ctx context.Context) error {
	for !f.c.holds(ctx) {
		if f.c.lostLease() {
			return f.refused()
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-f.c.lost:
		case <-time.After(time.Second):
		}
	}
	return nil
}

func (f fencedSender) Send(ctx context.Context, w engine.Webhook) (engine.Reply, error) {
	if err := f.wait(ctx); err != nil {
		return engine.Reply{}, &engine.DeliveryError{Reason: err.Error()}
	}
	return f.Sender.Send(ctx, w)
}

func (f fencedSender) Notify(ctx context.Context, w engine.Webhook, done func([]engine.Attempt)) error {
	if err := f.wait(ctx); err != nil {
		return err
	}
	return f.Sender.Notify(ctx, w, done)
}
