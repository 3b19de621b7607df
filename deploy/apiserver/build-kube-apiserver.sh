#!/usr/bin/env bash
# Builds the real kube-apiserver of one Kubernetes release from the Go module proxy:
#   deploy/apiserver/build-kube-apiserver.sh v1.37.2 .tools/kube-apiserver
#
# k8s.io/kubernetes cannot be `go install`ed: its go.mod replaces its staging modules
# (k8s.io/api, k8s.io/apiserver, ...) with ./staging/src paths that its module zip does not
# carry. A throw-away module pins each of them to the published v0.<minor>.<patch> that the
# release tags from the same tree, then builds cmd/kube-apiserver with CGO off.
set -euo pipefail
version=${1:?usage: $0 <kubernetes version, e.g. v1.37.2> <output binary>}
out=${2:?usage: $0 <kubernetes version> <output binary>}
staging=v0.${version#v1.}
go=${GO:-go}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mod=$("$go" mod download -json "k8s.io/kubernetes@$version" | sed -n 's/^\t"GoMod": "\(.*\)",$/\1/p')
[ -f "$mod" ] || { echo "k8s.io/kubernetes@$version: no go.mod from the module proxy" >&2; exit 1; }

cd "$work"
"$go" mod init kube-apiserver-build >/dev/null 2>&1
# Every `k8s.io/<name> => ./staging/src/k8s.io/<name>` of the release becomes `=> k8s.io/<name> v0.x.y`.
for m in $(sed -n 's#^[[:space:]]*\(k8s.io/[a-z0-9-]*\) => ./staging/src/.*#\1#p' "$mod"); do
	"$go" mod edit -replace "$m=$m@$staging"
done
"$go" mod edit -require "k8s.io/kubernetes@$version"
# A blank import so that `go mod tidy` resolves the dependencies of cmd/kube-apiserver.
cat > main.go <<'GO'
package main

import _ "k8s.io/kubernetes/cmd/kube-apiserver/app"

func main() {}
GO
"$go" mod tidy
rm main.go
mkdir -p "$(dirname "$out")"
out=$(cd "$OLDPWD" && realpath -m "$out")
CGO_ENABLED=0 "$go" build -trimpath -ldflags "-s -w -X k8s.io/component-base/version.gitVersion=$version" \
	-o "$out.tmp" k8s.io/kubernetes/cmd/kube-apiserver
mv "$out.tmp" "$out"
echo "built $out (kube-apiserver $version)"
