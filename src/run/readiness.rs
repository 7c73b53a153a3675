//! What a descriptor is ready for right now: headless stdin and stdout stay in blocking mode
//! (their file descriptions are shared with the shell), so each read or direct write is made
//! only once `poll(2)`, asked not to wait, says it cannot block.

use std::os::fd::AsFd;

use rustix::event::{PollFd, PollFlags, Timespec, poll};

/// The events `poll(2)` reports for `fd` at once (no wait); empty when none, or when `poll`
/// fails.
pub fn poll_now(fd: impl AsFd, interest: PollFlags) -> PollFlags {
    let mut fds = [PollFd::new(&fd, interest)];
    let now = Timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    match poll(&mut fds, Some(&now)) {
        Ok(1) => fds[0].revents(),
        _ => PollFlags::empty(),
    }
}
