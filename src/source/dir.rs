//! Directories of a tree opened and listed relative to an open descriptor,
//! for readers that walk a known layout (the advisory database) rather
//! than an arbitrary tree (that is `walk`).
//!
//! Opening by a name relative to an open folder resolves one component,
//! not the whole path, and never follows the listing out of the folder.
//! Unix only; elsewhere callers list through `std::fs`.

/// Folder `name` (relative to `at`, or a whole path from `CWD`), opened
/// for listing; `None` when it cannot be.
#[cfg(unix)]
pub fn open_folder(
    at: impl rustix::fd::AsFd,
    name: impl rustix::path::Arg,
) -> Option<rustix::fd::OwnedFd> {
    use rustix::fs::{Mode, OFlags};
    let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
    rustix::fs::openat(at, name, flags, Mode::empty()).ok()
}

/// A directory entry's name as text, unless it is a dotfile (or not UTF-8:
/// no advisory or crate folder is).
#[cfg(unix)]
pub fn visible(name: &std::ffi::CStr) -> Option<&str> {
    name.to_str().ok().filter(|n| !n.starts_with('.'))
}
