package e2e

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// PKI is a throw-away certificate authority with a server certificate for 127.0.0.1 and a
// client certificate, written as PEM files for collector configurations.
type PKI struct {
	CAFile, ClientCertFile, ClientKeyFile string
	// ServerCertFile and ServerKeyFile hold the server certificate, for a collector's listener.
	ServerCertFile, ServerKeyFile string
	// CAs trusts the CA, for clients of the server certificate.
	CAs *x509.CertPool
	// Server requires a client certificate signed by the CA (mutual TLS).
	Server *tls.Config
}

// NewTestPKI creates the CA and both certificates in a temporary directory.
func NewTestPKI(tb testing.TB) *PKI {
	tb.Helper()
	dir := tb.TempDir()
	caKey, ca, caDER := newCert(tb, nil, nil, &x509.Certificate{
		Subject: pkix.Name{CommonName: "e2e test CA"}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign,
	})
	srvKey, _, srvDER := newCert(tb, ca, caKey, &x509.Certificate{
		Subject: pkix.Name{CommonName: "127.0.0.1"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, KeyUsage: x509.KeyUsageDigitalSignature,
	})
	cliKey, _, cliDER := newCert(tb, ca, caKey, &x509.Certificate{
		Subject:     pkix.Name{CommonName: "e2e client"},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, KeyUsage: x509.KeyUsageDigitalSignature,
	})
	p := &PKI{
		CAFile:         writePEM(tb, filepath.Join(dir, "ca.pem"), "CERTIFICATE", caDER),
		ClientCertFile: writePEM(tb, filepath.Join(dir, "client.pem"), "CERTIFICATE", cliDER),
		ClientKeyFile:  writePEM(tb, filepath.Join(dir, "client-key.pem"), "EC PRIVATE KEY", marshalKey(tb, cliKey)),
		ServerCertFile: writePEM(tb, filepath.Join(dir, "server.pem"), "CERTIFICATE", srvDER),
		ServerKeyFile:  writePEM(tb, filepath.Join(dir, "server-key.pem"), "EC PRIVATE KEY", marshalKey(tb, srvKey)),
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	p.CAs = pool
	p.Server = &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{{Certificate: [][]byte{srvDER}, PrivateKey: srvKey}},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    pool,
		NextProtos:   []string{"h2", "http/1.1"},
	}
	return p
}

func newCert(tb testing.TB, parent *x509.Certificate, parentKey *ecdsa.PrivateKey, tmpl *x509.Certificate) (*ecdsa.PrivateKey, *x509.Certificate, []byte) {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl.SerialNumber = serial
	tmpl.NotBefore = time.Now().Add(-time.Hour)
	tmpl.NotAfter = time.Now().Add(24 * time.Hour)
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		tb.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		tb.Fatal(err)
	}
	return key, cert, der
}

func marshalKey(tb testing.TB, key *ecdsa.PrivateKey) []byte {
	der, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		tb.Fatal(err)
	}
	return der
}

func writePEM(tb testing.TB, path, typ string, der []byte) string {
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		tb.Fatal(err)
	}
	return path
}
