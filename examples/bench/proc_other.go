//go:build !linux

package main

import (
	"os/exec"
	"time"
)

// Without /proc, RSS and CPU times are not measured (reported as 0).

func rss(int) int64 { return 0 }

func cpuTime(int) time.Duration { return 0 }

func setParentDeathSignal(*exec.Cmd) {}

func machineCPU() string { return "" }

func kernel() string { return "" }

func memTotal() string { return "" }
