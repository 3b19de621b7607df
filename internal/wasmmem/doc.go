// Package wasmmem tells the linear memories of a Wasm runtime's instances apart from outside
// the runtime, in /proc/<pid>/smaps: engines reserve each linear memory as one PROT_NONE
// mapping and make its low part read-write as it grows, so a process embedding many instances
// shows one recognisable reservation per memory (layout.go cites the allocators). The package
// holds a pure, allocation-free smaps and smaps_rollup parser, the classifier, and a tracker
// that keeps each memory's index and growth between reads.
package wasmmem
