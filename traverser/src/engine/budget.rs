//! What a request may spend, and the counting that enforces it where it is spent.
//!
//! - [`Budgets`]: a request's limits once the server's defaults and ceilings are applied
//!   (visits, wall clock, bytes held).
//! - [`Meter`]: the bytes a request holds. Every structure a request grows (the walk's stack or
//!   queue, breadcrumbs, uniqueness sets, a shortest-path search's maps and links, the answer)
//!   grows through [`Meter::room`], which checks the grown allocation against the budget
//!   *before* asking the allocator, and asks it with `try_reserve`, so neither a budget nor an
//!   exhausted machine can end in an allocation failure that aborts the process.
//! - [`Clock`]: the deadline, read every few thousand units of work (a visit or a relationship
//!   followed), so that it holds within a few milliseconds however the work is shaped.
//!
//! Sizes are capacities times element sizes (hash sets add their control bytes): what the
//! allocator holds, not what is in use, so a doubling vector counts from the moment it doubles.

use std::cell::Cell;
use std::collections::VecDeque;
use std::time::{Duration, Instant};

use neotrav_wire::{Answer, Budget, BudgetName, OnExceed, Path};

use super::RequestError;
use super::plan::Limits;

/// Why a request stopped early.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exceeded {
    /// `budget.maxVisited`.
    Visited(u64),
    /// `budget.deadlineMs`.
    Deadline(u128),
    /// `budget.maxMemory`, in bytes.
    Memory(u64),
}

impl Exceeded {
    /// The budget's name.
    pub fn name(self) -> BudgetName {
        match self {
            Exceeded::Visited(_) => BudgetName::MaxVisited,
            Exceeded::Deadline(_) => BudgetName::DeadlineMs,
            Exceeded::Memory(_) => BudgetName::MaxMemory,
        }
    }
}

/// A request's budgets, validated and capped by the server's [`Limits`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budgets {
    /// At most this many visited nodes.
    pub max_visited: u64,
    /// Wall-clock limit.
    pub deadline: Duration,
    /// At most this many bytes held at once.
    pub max_memory: u64,
    /// Error or partial result.
    pub on_exceed: OnExceed,
}

impl Budgets {
    /// Validates a request's `budget` and applies the server's defaults and ceilings.
    pub fn of(b: &Budget, limits: Limits) -> Result<Budgets, RequestError> {
        if b.max_visited == Some(0) {
            return Err(RequestError::new("budget.maxVisited", "must be at least 1"));
        }
        if b.deadline_ms == Some(0) {
            return Err(RequestError::new("budget.deadlineMs", "must be at least 1"));
        }
        if b.max_memory == Some(0) {
            return Err(RequestError::new("budget.maxMemory", "must be at least 1"));
        }
        Ok(Budgets {
            max_visited: b
                .max_visited
                .unwrap_or(limits.max_visited)
                .min(limits.max_visited),
            deadline: Duration::from_millis(
                b.deadline_ms
                    .unwrap_or(limits.deadline_ms)
                    .min(limits.deadline_ms),
            ),
            max_memory: b
                .max_memory
                .unwrap_or(limits.default_memory)
                .min(limits.max_memory),
            on_exceed: b.on_exceed,
        })
    }

    /// The wall-clock limit of a request with `budget`, before it is validated (a malformed
    /// budget, refused later naming its field, gets the server's deadline).
    pub fn deadline_of(b: &Budget, limits: Limits) -> Duration {
        Budgets::of(b, limits).map_or(Duration::from_millis(limits.deadline_ms), |b| b.deadline)
    }

    /// The bytes a server reserves for a request with `budget` (its `maxMemory` as capped).
    pub fn memory_of(b: &Budget, limits: Limits) -> u64 {
        b.max_memory
            .filter(|&m| m > 0)
            .unwrap_or(limits.default_memory)
            .min(limits.max_memory)
    }
}

/// The bytes one request holds, against its budget. Shared by `&` between the walk and the
/// code that collects the answer (one thread: the counts are [`Cell`]s).
#[derive(Debug)]
pub struct Meter {
    limit: u64,
    used: Cell<u64>,
    peak: Cell<u64>,
}

impl Meter {
    /// A meter allowing `limit` bytes.
    pub fn new(limit: u64) -> Meter {
        Meter {
            limit,
            used: Cell::new(0),
            peak: Cell::new(0),
        }
    }

    /// The limit, in bytes.
    pub fn limit(&self) -> u64 {
        self.limit
    }

    /// Bytes held now.
    pub fn used(&self) -> u64 {
        self.used.get()
    }

    /// The most bytes held at once so far.
    pub fn peak(&self) -> u64 {
        self.peak.get()
    }

    fn set(&self, used: u64) {
        self.used.set(used);
        if used > self.peak.get() {
            self.peak.set(used);
        }
    }

    /// Counts `bytes` more, or fails (counting nothing) when they would pass the limit.
    #[inline]
    pub fn charge(&self, bytes: u64) -> Result<(), Exceeded> {
        let used = self.used.get().saturating_add(bytes);
        if used > self.limit {
            return Err(Exceeded::Memory(self.limit));
        }
        self.set(used);
        Ok(())
    }

    /// Counts `bytes` fewer.
    #[inline]
    pub fn release(&self, bytes: u64) {
        self.used.set(self.used.get().saturating_sub(bytes));
    }

    /// Makes room in `c` for one more element: nothing when it has spare capacity, otherwise
    /// doubles it, if the old and the new allocation together (the moment of a reallocation)
    /// fit the budget and the allocator agrees.
    #[inline]
    pub fn room<C: Grow>(&self, c: &mut C) -> Result<(), Exceeded> {
        if c.items() < c.slots() {
            return Ok(());
        }
        self.grow(c, c.slots().max(16))
    }

    /// Makes room in `c` for `more` elements beyond its length, within the budget.
    pub fn reserve<C: Grow>(&self, c: &mut C, more: usize) -> Result<(), Exceeded> {
        if c.slots() - c.items() >= more {
            return Ok(());
        }
        self.grow(c, more.max(c.slots()))
    }

    #[cold]
    fn grow<C: Grow>(&self, c: &mut C, more: usize) -> Result<(), Exceeded> {
        let used = self.used.get();
        let old = c.bytes();
        // The peak of a reallocation is the old and the new block together.
        let peak = used.saturating_add(C::bytes_for(c.items().saturating_add(more)));
        if peak > self.limit || !c.try_reserve_more(more) {
            return Err(Exceeded::Memory(self.limit));
        }
        let new = c.bytes();
        self.set(used.saturating_add(new));
        self.used.set(used.saturating_sub(old).saturating_add(new));
        Ok(())
    }

    /// Stops counting what `c` holds (it is being freed or handed on).
    pub fn forget<C: Grow>(&self, c: &C) {
        self.release(c.bytes());
    }
}

/// A collection that grows through a [`Meter`].
pub trait Grow {
    /// Elements held.
    fn items(&self) -> usize;
    /// Elements it can hold without reallocating.
    fn slots(&self) -> usize;
    /// Bytes held for `capacity` elements.
    fn bytes_for(capacity: usize) -> u64;
    /// Grows it for `more` elements beyond its length; false (and unchanged) when the
    /// allocator refuses, never an abort.
    fn try_reserve_more(&mut self, more: usize) -> bool;
    /// Bytes it holds now.
    fn bytes(&self) -> u64 {
        Self::bytes_for(self.slots())
    }
}

impl<T> Grow for Vec<T> {
    fn items(&self) -> usize {
        Vec::len(self)
    }
    fn slots(&self) -> usize {
        Vec::capacity(self)
    }
    fn bytes_for(capacity: usize) -> u64 {
        (capacity as u64).saturating_mul(size_of::<T>() as u64)
    }
    fn try_reserve_more(&mut self, more: usize) -> bool {
        self.try_reserve_exact(more).is_ok()
    }
}

impl<T> Grow for VecDeque<T> {
    fn items(&self) -> usize {
        VecDeque::len(self)
    }
    fn slots(&self) -> usize {
        VecDeque::capacity(self)
    }
    fn bytes_for(capacity: usize) -> u64 {
        (capacity as u64).saturating_mul(size_of::<T>() as u64)
    }
    fn try_reserve_more(&mut self, more: usize) -> bool {
        self.try_reserve_exact(more).is_ok()
    }
}

/// A hash table's bytes for `capacity` items: buckets (a power of two, at most 7/8 full)
/// of one entry and one control byte each.
fn table_bytes(capacity: usize, entry: usize) -> u64 {
    if capacity == 0 {
        return 0;
    }
    let buckets = (capacity.saturating_mul(8) / 7).next_power_of_two() as u64;
    buckets.saturating_mul(entry as u64 + 1)
}

impl<T: std::hash::Hash + Eq, S: std::hash::BuildHasher> Grow for hashbrown::HashSet<T, S> {
    fn items(&self) -> usize {
        hashbrown::HashSet::len(self)
    }
    fn slots(&self) -> usize {
        hashbrown::HashSet::capacity(self)
    }
    fn bytes_for(capacity: usize) -> u64 {
        table_bytes(capacity, size_of::<T>())
    }
    fn try_reserve_more(&mut self, more: usize) -> bool {
        self.try_reserve(more).is_ok()
    }
}

impl<K: std::hash::Hash + Eq, V, S: std::hash::BuildHasher> Grow for hashbrown::HashMap<K, V, S> {
    fn items(&self) -> usize {
        hashbrown::HashMap::len(self)
    }
    fn slots(&self) -> usize {
        hashbrown::HashMap::capacity(self)
    }
    fn bytes_for(capacity: usize) -> u64 {
        table_bytes(capacity, size_of::<(K, V)>())
    }
    fn try_reserve_more(&mut self, more: usize) -> bool {
        self.try_reserve(more).is_ok()
    }
}

/// The bytes a path in wire form holds: its three lists and each type name (a small heap
/// block of at least 32 bytes).
pub fn path_bytes(p: &Path) -> u64 {
    let names: usize = p.types.iter().map(|t| 24 + t.len().max(16) + 16).sum();
    (size_of::<Path>() + p.nodes.capacity() * 8 + p.relationships.capacity() * 8 + names) as u64
}

/// The bytes an answer holds, as [`Meter`] counted them while it was made.
pub fn answer_bytes(a: &Answer) -> u64 {
    match a {
        Answer::Nodes(n) => n.bytes(),
        Answer::Paths(p) => p.bytes() + p.iter().map(path_bytes).sum::<u64>(),
        Answer::Count(_) => 0,
        Answer::Groups(g) => {
            g.0.bytes() + g.0.iter().map(|(k, _)| k.len() as u64 + 32).sum::<u64>()
        }
    }
}

/// The memory this process may use: the machine's (`MemTotal` in `/proc/meminfo`), or its
/// control group's limit when lower; 4 GiB where neither can be read.
pub fn machine_memory() -> u64 {
    static MEMORY: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *MEMORY.get_or_init(|| {
        let total = std::fs::read_to_string("/proc/meminfo").ok().and_then(|m| {
            m.lines()
                .find_map(|l| l.strip_prefix("MemTotal:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
                .map(|kb| kb * 1024)
        });
        let cgroup = [
            "/sys/fs/cgroup/memory.max",
            "/sys/fs/cgroup/memory/memory.limit_in_bytes",
        ]
        .iter()
        .find_map(|p| std::fs::read_to_string(p).ok()?.trim().parse::<u64>().ok());
        match (total, cgroup) {
            (Some(t), Some(c)) => t.min(c),
            (Some(t), None) => t,
            (None, Some(c)) => c,
            (None, None) => 4 << 30,
        }
    })
}

/// Units of work between two readings of the clock: about a hundred microseconds of walking.
const CLOCK_EVERY: u64 = 2048;

/// A request's deadline, read every `CLOCK_EVERY` (2,048) units of work.
#[derive(Debug)]
pub struct Clock {
    started: Instant,
    deadline: Duration,
    next: u64,
}

impl Clock {
    /// A clock started now.
    pub fn new(deadline: Duration) -> Clock {
        Clock::since(Instant::now(), deadline)
    }

    /// A clock started at `started`.
    pub fn since(started: Instant, deadline: Duration) -> Clock {
        Clock {
            started,
            deadline,
            next: CLOCK_EVERY,
        }
    }

    /// Whether the deadline has passed, given the work done so far (visits plus
    /// relationships followed); reads the time only every `CLOCK_EVERY` units.
    #[inline]
    pub fn check(&mut self, work: u64) -> Result<(), Exceeded> {
        if work < self.next {
            return Ok(());
        }
        self.next = work + CLOCK_EVERY;
        self.check_now()
    }

    /// Whether the deadline has passed, reading the time now.
    pub fn check_now(&self) -> Result<(), Exceeded> {
        if self.started.elapsed() > self.deadline {
            return Err(Exceeded::Deadline(self.deadline.as_millis()));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_vector_grows_within_the_budget_and_stops_before_it() {
        let meter = Meter::new(1 << 20);
        let mut v: Vec<u64> = Vec::new();
        let mut pushed = 0u64;
        while meter.room(&mut v).is_ok() {
            v.push(pushed);
            pushed += 1;
        }
        // Doubling: the last growth that fit held the old and the new block at once.
        assert!(
            meter.peak() <= meter.limit(),
            "{} > {}",
            meter.peak(),
            meter.limit()
        );
        assert!(pushed >= (1 << 20) / 8 / 3, "only {pushed} fit");
        assert_eq!(meter.used(), v.bytes());
        meter.forget(&v);
        assert_eq!(meter.used(), 0);
    }

    #[test]
    fn charges_past_the_limit_fail_and_count_nothing() {
        let meter = Meter::new(100);
        assert!(meter.charge(60).is_ok());
        assert_eq!(meter.charge(41), Err(Exceeded::Memory(100)));
        assert_eq!(meter.used(), 60);
        meter.release(60);
        assert!(meter.charge(100).is_ok());
    }

    #[test]
    fn an_allocation_the_machine_cannot_give_is_an_error_not_an_abort() {
        let meter = Meter::new(u64::MAX);
        let mut v: Vec<[u8; 4096]> = Vec::new();
        assert_eq!(
            meter.reserve(&mut v, usize::MAX / 8192),
            Err(Exceeded::Memory(u64::MAX))
        );
    }

    #[test]
    fn budgets_take_the_servers_defaults_and_ceilings() {
        let limits = Limits {
            max_memory: 1000,
            default_memory: 100,
            ..Limits::default()
        };
        let b = Budgets::of(&Budget::default(), limits).unwrap();
        assert_eq!(b.max_memory, 100);
        let asked = Budget {
            max_memory: Some(5000),
            ..Budget::default()
        };
        assert_eq!(Budgets::of(&asked, limits).unwrap().max_memory, 1000);
        assert_eq!(Budgets::memory_of(&asked, limits), 1000);
        let zero = Budget {
            max_memory: Some(0),
            ..Budget::default()
        };
        assert_eq!(
            Budgets::of(&zero, limits).unwrap_err().field,
            "budget.maxMemory"
        );
    }
}
