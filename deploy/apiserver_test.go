//go:build apiserver

// This test compiles only with -tags apiserver (make test-apiserver), which builds the
// kube-apiserver it needs first; see the Makefile for why it is not part of make test.

package deploy

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"

	"github.com/otelcol-virt/otelcol-virt/internal/e2e"
)

// A real Kubernetes API server on loopback: etcd (Debian package etcd-server, `make deps`)
// and kube-apiserver built from the Kubernetes release's own source (`make test-apiserver`, see
// deploy/apiserver/build-kube-apiserver.sh). Every overlay is created through its REST API
// with strict field validation, so the objects go through the same decoding, defaulting,
// validation and admission (PodSecurity included) as `kubectl apply` on a cluster.

type apiServer struct {
	url, token string
	client     *http.Client
}

// startProcess starts a server for the test's lifetime; the channel is closed when it exits.
func startProcess(t *testing.T, name string, args ...string) <-chan struct{} {
	t.Helper()
	cmd := exec.Command(name, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", name, err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("%s output (last 4 KiB):\n%s", filepath.Base(name), tail(out.String(), 4096))
		}
	})
	return done
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// requireTool finds a tool the API server test needs; it skips without it, except under CI
// where `make test` installs it.
func requireTool(t *testing.T, name, path, how string) string {
	t.Helper()
	if _, err := os.Stat(path); err == nil {
		return path
	}
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	t.Fatalf("%s not found: %s", name, how)
	return ""
}

func startAPIServer(t *testing.T) *apiServer {
	t.Helper()
	etcd := requireTool(t, "etcd", "/usr/bin/etcd", "`make deps` installs the Debian package etcd-server")
	kas := filepath.Join(repoPath(".tools"), "kube-apiserver")
	if dir := os.Getenv("OTELCOL_VIRT_TOOLS"); dir != "" {
		kas = filepath.Join(dir, "kube-apiserver")
	}
	kas = requireTool(t, "kube-apiserver", kas, "`make test-apiserver` builds it (deploy/apiserver/build-kube-apiserver.sh)")

	dir := t.TempDir()
	client, peer := e2e.FreeEndpoint(t), e2e.FreeEndpoint(t)
	startProcess(t, etcd, "--name=default", "--data-dir="+filepath.Join(dir, "etcd"),
		"--listen-client-urls=http://"+client, "--advertise-client-urls=http://"+client,
		"--listen-peer-urls=http://"+peer, "--initial-advertise-peer-urls=http://"+peer,
		"--initial-cluster=default=http://"+peer, "--unsafe-no-fsync", "--log-level=warn")

	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(dir, "sa.key")
	writeFile(t, keyFile, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}))
	token := "otelcol-virt-test-token"
	tokens := filepath.Join(dir, "tokens.csv")
	writeFile(t, tokens, []byte(token+`,admin,admin,"system:masters"`+"\n"))
	port := e2e.FreePort(t)
	exited := startProcess(t, kas,
		"--etcd-servers=http://"+client,
		"--bind-address=127.0.0.1", "--advertise-address=127.0.0.1", "--secure-port="+strconv.Itoa(port),
		"--cert-dir="+filepath.Join(dir, "certs"),
		"--token-auth-file="+tokens, "--authorization-mode=RBAC",
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file="+keyFile, "--service-account-signing-key-file="+keyFile,
		"--service-cluster-ip-range=10.96.0.0/16",
		// The kubernetes Service's endpoints may not be loopback; nothing here needs them.
		"--endpoint-reconciler-type=none")

	s := &apiServer{
		url:   "https://127.0.0.1:" + strconv.Itoa(port),
		token: token,
		// The server's certificate is self-signed in cert-dir for this run only.
		client: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}},
	}
	deadline := time.Now().Add(3 * time.Minute)
	for {
		code, body, err := s.do(http.MethodGet, "/readyz", nil)
		if err == nil && code == http.StatusOK {
			return s
		}
		select {
		case <-exited:
			t.Fatal("kube-apiserver exited before it was ready")
		case <-time.After(time.Second):
		}
		if time.Now().After(deadline) {
			t.Fatalf("kube-apiserver not ready: %d %v %s", code, err, body)
		}
	}
}

func (s *apiServer) do(method, path string, body []byte) (int, []byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, s.url+path, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+s.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// collectionPath is the REST path of a kind's collection in a namespace.
func collectionPath(apiVersion, kind, namespace string) string {
	base := "/apis/" + apiVersion
	if apiVersion == "v1" {
		base = "/api/v1"
	}
	plural := strings.ToLower(kind) + "s"
	if kind == "Namespace" {
		return base + "/namespaces"
	}
	return base + "/namespaces/" + namespace + "/" + plural
}

// create posts an object with strict field validation (unknown or duplicate fields are
// errors, as `kubectl apply --validate=strict`), and returns the status and the answer.
func (s *apiServer) create(t *testing.T, obj map[string]any) (int, []byte) {
	t.Helper()
	meta := obj["metadata"].(map[string]any)
	ns, _ := meta["namespace"].(string)
	path := collectionPath(fmt.Sprint(obj["apiVersion"]), fmt.Sprint(obj["kind"]), ns) + "?fieldValidation=Strict"
	data, err := json.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	code, body, err := s.do(http.MethodPost, path, data)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	return code, body
}

func (s *apiServer) get(t *testing.T, apiVersion, kind, namespace, name string, into any) {
	t.Helper()
	path := collectionPath(apiVersion, kind, namespace) + "/" + name
	code, body, err := s.do(http.MethodGet, path, nil)
	if err != nil || code != http.StatusOK {
		t.Fatalf("GET %s: %d %v %s", path, code, err, body)
	}
	if err := json.Unmarshal(body, into); err != nil {
		t.Fatal(err)
	}
}

// overlayObjects builds an overlay and returns its objects as generic maps, moved to their
// own namespace so that the overlays can live side by side.
func overlayObjects(t *testing.T, overlay, namespace string) []map[string]any {
	t.Helper()
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	resMap, err := k.Run(filesys.MakeFsOnDisk(), repoPath(k8sDir, "overlays", overlay))
	if err != nil {
		t.Fatal(err)
	}
	var objs []map[string]any
	for _, r := range resMap.Resources() {
		data, err := r.AsYAML()
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := yaml.Unmarshal(data, &m); err != nil {
			t.Fatal(err)
		}
		meta := m["metadata"].(map[string]any)
		if m["kind"] == "Namespace" {
			meta["name"] = namespace
		} else {
			meta["namespace"] = namespace
		}
		objs = append(objs, m)
	}
	return objs
}

// TestManifestsOnARealAPIServer creates every overlay on a real kube-apiserver and checks that
// the gateway's StatefulSet, HorizontalPodAutoscaler and PodDisruptionBudget come back as
// written (a field of a disabled feature would be dropped silently), that PodSecurity
// admission accepts the gateway's pod under the restricted standard and refuses the agent's
// there, and that the server's validation is really at work (a preStop sleep longer than the
// grace period is refused).
func TestManifestsOnARealAPIServer(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: starts etcd and kube-apiserver")
	}
	s := startAPIServer(t)
	for _, overlay := range overlays {
		ns := "otelcol-virt-" + overlay
		local := buildOverlay(t, overlay)
		objs := overlayObjects(t, overlay, ns)
		// The Namespace first, then everything else in kustomize's order.
		for _, pass := range []bool{true, false} {
			for _, o := range objs {
				if (o["kind"] == "Namespace") != pass {
					continue
				}
				if code, body := s.create(t, o); code != http.StatusCreated {
					t.Errorf("overlays/%s: %s %v refused: %d %s", overlay, o["kind"], o["metadata"].(map[string]any)["name"], code, body)
				}
			}
		}
		if t.Failed() {
			t.FailNow()
		}

		var sts appsv1.StatefulSet
		s.get(t, "apps/v1", "StatefulSet", ns, local.statefulSets[0].Name, &sts)
		want := local.statefulSets[0]
		for name, pair := range map[string][2]any{
			"persistentVolumeClaimRetentionPolicy": {sts.Spec.PersistentVolumeClaimRetentionPolicy, want.Spec.PersistentVolumeClaimRetentionPolicy},
			"preStop":                              {sts.Spec.Template.Spec.Containers[0].Lifecycle, want.Spec.Template.Spec.Containers[0].Lifecycle},
			"podManagementPolicy":                  {sts.Spec.PodManagementPolicy, want.Spec.PodManagementPolicy},
			"serviceName":                          {sts.Spec.ServiceName, want.Spec.ServiceName},
			"volumeClaimTemplates[0].resources":    {sts.Spec.VolumeClaimTemplates[0].Spec.Resources, want.Spec.VolumeClaimTemplates[0].Spec.Resources},
			"terminationGracePeriodSeconds":        {*sts.Spec.Template.Spec.TerminationGracePeriodSeconds, *want.Spec.Template.Spec.TerminationGracePeriodSeconds},
		} {
			if !reflect.DeepEqual(pair[0], pair[1]) {
				t.Errorf("overlays/%s: the API server stored StatefulSet %s %+v, the manifest has %+v", overlay, name, pair[0], pair[1])
			}
		}
		var hpa autoscalingv2.HorizontalPodAutoscaler
		s.get(t, "autoscaling/v2", "HorizontalPodAutoscaler", ns, local.hpas[0].Name, &hpa)
		if !reflect.DeepEqual(hpa.Spec.Metrics, local.hpas[0].Spec.Metrics) || *hpa.Spec.MinReplicas != *local.hpas[0].Spec.MinReplicas ||
			!reflect.DeepEqual(hpa.Spec.Behavior.ScaleDown, local.hpas[0].Spec.Behavior.ScaleDown) {
			t.Errorf("overlays/%s: the API server stored the HPA as %+v", overlay, hpa.Spec)
		}
		var pdb policyv1.PodDisruptionBudget
		s.get(t, "policy/v1", "PodDisruptionBudget", ns, local.pdbs[0].Name, &pdb)
		if !reflect.DeepEqual(pdb.Spec.MaxUnavailable, local.pdbs[0].Spec.MaxUnavailable) || !reflect.DeepEqual(pdb.Spec.Selector, local.pdbs[0].Spec.Selector) {
			t.Errorf("overlays/%s: the API server stored the PDB as %+v", overlay, pdb.Spec)
		}
	}

	// PodSecurity admission, restricted level: the gateway's pod passes, the agent's does not.
	c := buildOverlay(t, "cloud")
	restricted := map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{
		"name": "restricted-check", "labels": map[string]any{"pod-security.kubernetes.io/enforce": "restricted"}}}
	// No controller manager runs here to create the namespace's default ServiceAccount.
	account := map[string]any{"apiVersion": "v1", "kind": "ServiceAccount", "metadata": map[string]any{
		"name": "default", "namespace": "restricted-check"}}
	for _, o := range []map[string]any{restricted, account} {
		if code, body := s.create(t, o); code != http.StatusCreated {
			t.Fatalf("%s: %d %s", o["kind"], code, body)
		}
	}
	gwSpec := c.statefulSets[0].Spec.Template.Spec.DeepCopy()
	for _, pvc := range c.statefulSets[0].Spec.VolumeClaimTemplates {
		gwSpec.Volumes = append(gwSpec.Volumes, corev1.Volume{Name: pvc.Name, VolumeSource: corev1.VolumeSource{
			PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: pvc.Name + "-gateway-0"}}})
	}
	podOf := func(name string, spec *corev1.PodSpec) map[string]any {
		spec.ServiceAccountName = "" // the test namespace has only the default account
		pod := corev1.Pod{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "restricted-check"}, Spec: *spec}
		data, _ := json.Marshal(pod)
		var m map[string]any
		_ = json.Unmarshal(data, &m)
		return m
	}
	if code, body := s.create(t, podOf("gateway", gwSpec)); code != http.StatusCreated {
		t.Errorf("the gateway's pod should meet the restricted Pod Security Standard: %d %s", code, body)
	}
	code, body := s.create(t, podOf("agent", c.daemonSets[0].Spec.Template.Spec.DeepCopy()))
	if code != http.StatusForbidden || !strings.Contains(string(body), "PodSecurity") {
		t.Errorf("PodSecurity should refuse the agent's pod (hostPID, hostPath) at the restricted level, got %d %s", code, body)
	}

	// The server validates what these tests rely on: a preStop sleep that outlasts the grace
	// period is refused.
	bad := overlayObjects(t, "cloud", "otelcol-virt-cloud")
	for _, o := range bad {
		if o["kind"] != "StatefulSet" {
			continue
		}
		o["metadata"].(map[string]any)["name"] = "too-long-sleep"
		spec := mustLookup(t, o, "spec", "template", "spec").(map[string]any)
		spec["terminationGracePeriodSeconds"] = 60
		if code, body := s.create(t, o); code != http.StatusUnprocessableEntity || !strings.Contains(string(body), "sleep") {
			t.Errorf("a preStop sleep of 120 s with a 60 s grace period should be refused, got %d %s", code, body)
		}
	}
}
