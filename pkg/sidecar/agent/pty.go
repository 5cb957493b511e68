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

package agent

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// openPTY returns a new pseudo-terminal pair. The master is non-blocking so
// that reads can be interrupted (deadlines) and closed safely.
func openPTY() (master, slave *os.File, err error) {
	mfd, err := unix.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("opening /dev/ptmx: %w", err)
	}
	if err := unix.IoctlSetPointerInt(mfd, unix.TIOCSPTLCK, 0); err != nil {
		unix.Close(mfd)
		return nil, nil, fmt.Errorf("unlocking the pty: %w", err)
	}
	sfd, err := openPeer(mfd)
	if err != nil {
		unix.Close(mfd)
		return nil, nil, err
	}
	if err := unix.SetNonblock(mfd, true); err != nil {
		unix.Close(mfd)
		unix.Close(sfd)
		return nil, nil, err
	}
	return os.NewFile(uintptr(mfd), "/dev/ptmx"), os.NewFile(uintptr(sfd), "pty"), nil
}

// openPeer opens the terminal side. TIOCGPTPEER (Linux 4.13) needs no path,
// so it works whatever /dev/pts the agent sees; older kernels use the path.
func openPeer(mfd int) (int, error) {
	fd, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(mfd), uintptr(unix.TIOCGPTPEER), uintptr(unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC))
	if errno == 0 {
		return int(fd), nil
	}
	if !errors.Is(errno, unix.EINVAL) && !errors.Is(errno, unix.ENOTTY) {
		return -1, fmt.Errorf("opening the pty peer: %w", errno)
	}
	n, err := unix.IoctlGetInt(mfd, unix.TIOCGPTN)
	if err != nil {
		return -1, fmt.Errorf("getting the pty number: %w", err)
	}
	sfd, err := unix.Open(fmt.Sprintf("/dev/pts/%d", n), unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("opening /dev/pts/%d: %w", n, err)
	}
	return sfd, nil
}

// withFd runs fn on f's descriptor while f cannot be closed under it.
func withFd(f *os.File, fn func(fd int) error) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var ferr error
	if err := rc.Control(func(fd uintptr) { ferr = fn(int(fd)) }); err != nil {
		return err
	}
	return ferr
}

// checkWinsize refuses what a terminal cannot hold.
func checkWinsize(rows, cols int32) error {
	if rows <= 0 || cols <= 0 || rows > 0xffff || cols > 0xffff {
		return fmt.Errorf("invalid terminal size %dx%d: rows and cols must be 1-65535", rows, cols)
	}
	return nil
}

func setWinsize(f *os.File, rows, cols int32) error {
	if err := checkWinsize(rows, cols); err != nil {
		return err
	}
	return withFd(f, func(fd int) error {
		return unix.IoctlSetWinsize(fd, unix.TIOCSWINSZ, &unix.Winsize{Row: uint16(rows), Col: uint16(cols)})
	})
}

// foregroundGroup is the process group the terminal delivers ^C to.
func foregroundGroup(f *os.File) (int, error) {
	var pgid int
	err := withFd(f, func(fd int) error {
		var err error
		pgid, err = unix.IoctlGetInt(fd, unix.TIOCGPGRP)
		return err
	})
	return pgid, err
}
