//! Names, titles, years and formats: property values computed from a hash of the node's index
//! (so they cost no state), and the helpers that write them into reused property slots.

use std::fmt::Write as _;

use crate::generate::Value;

use super::arith::{Hash, mix64};
use super::shape::{PPM, RELEASE_NO_YEAR_PPM, YEAR_BUCKETS};

const FIRST_NAMES: [&str; 40] = [
    "John", "Maria", "David", "Anna", "Michael", "Laura", "Peter", "Sofia", "James", "Elena",
    "Carlos", "Yuki", "Ahmed", "Ingrid", "Luca", "Nina", "Kofi", "Marta", "Pierre", "Olga", "Tom",
    "Aisha", "Jan", "Chloe", "Diego", "Hana", "Erik", "Fatima", "Paul", "Lena", "Sam", "Ines",
    "Viktor", "Rosa", "Ken", "Ada", "Marco", "Eva", "Bill", "Zoe",
];
const LAST_NAMES: [&str; 40] = [
    "Smith", "Garcia", "Muller", "Rossi", "Tanaka", "Silva", "Johnson", "Novak", "Dubois",
    "Kowalski", "Jensen", "Haddad", "Brown", "Costa", "Ivanov", "Larsen", "Moreau", "Nakamura",
    "Okafor", "Petrov", "Quinn", "Reyes", "Schmidt", "Torres", "Ueda", "Vargas", "Weber", "Young",
    "Zimmer", "Andersen", "Baker", "Clarke", "Davis", "Evans", "Fischer", "Gray", "Hughes",
    "Keller", "Lopez", "Martin",
];
const ADJECTIVES: [&str; 40] = [
    "Blue",
    "Electric",
    "Silent",
    "Golden",
    "Broken",
    "Midnight",
    "Velvet",
    "Crystal",
    "Wild",
    "Hidden",
    "Lost",
    "Neon",
    "Burning",
    "Frozen",
    "Distant",
    "Sacred",
    "Hollow",
    "Bright",
    "Dark",
    "Endless",
    "Secret",
    "Shining",
    "Wandering",
    "Restless",
    "Quiet",
    "Northern",
    "Southern",
    "Lunar",
    "Solar",
    "Cosmic",
    "Urban",
    "Rusty",
    "Paper",
    "Iron",
    "Glass",
    "Crimson",
    "Emerald",
    "Purple",
    "Sonic",
    "Strange",
];
const NOUNS: [&str; 40] = [
    "Echo", "River", "Dream", "Shadow", "Heart", "Fire", "Ocean", "Mountain", "Garden", "Mirror",
    "Storm", "Rose", "Star", "Horizon", "Signal", "Wave", "Machine", "Island", "Forest", "City",
    "Light", "Road", "Window", "Harbor", "Engine", "Voice", "Circle", "Flame", "Desert", "Tide",
    "Comet", "Tower", "Valley", "Bridge", "Orbit", "Pulse", "Lantern", "Winter", "Summer",
    "Planet",
];
const LABEL_SUFFIXES: [&str; 8] = [
    "Records",
    "Music",
    "Recordings",
    "Sounds",
    "Productions",
    "Label",
    "Audio",
    "Tapes",
];

fn word(list: &[&'static str], h: u64, shift: u32) -> &'static str {
    list[((h >> shift) % list.len() as u64) as usize]
}

pub(super) fn artist_name(out: &mut String, h: u64) {
    let _ = match h % 5 {
        0 | 1 => write!(
            out,
            "{} {}",
            word(&FIRST_NAMES, h, 8),
            word(&LAST_NAMES, h, 20)
        ),
        2 => write!(
            out,
            "The {} {}s",
            word(&ADJECTIVES, h, 8),
            word(&NOUNS, h, 20)
        ),
        3 => write!(out, "{} {}", word(&ADJECTIVES, h, 8), word(&NOUNS, h, 20)),
        _ => write!(out, "DJ {}", word(&NOUNS, h, 8)),
    };
    if (h >> 40).is_multiple_of(8) {
        let _ = write!(out, " ({})", 2 + (h >> 44) % 9);
    }
}

pub(super) fn label_name(out: &mut String, h: u64) {
    let _ = match h % 3 {
        0 => write!(out, "{} {}", word(&ADJECTIVES, h, 8), word(&NOUNS, h, 20)),
        1 => write!(
            out,
            "{} {}",
            word(&NOUNS, h, 8),
            word(&LABEL_SUFFIXES, h, 20)
        ),
        _ => write!(
            out,
            "{} {}",
            word(&LAST_NAMES, h, 8),
            word(&LABEL_SUFFIXES, h, 20)
        ),
    };
}

pub(super) fn title(out: &mut String, h: u64) {
    let _ = match h % 4 {
        0 | 1 => write!(out, "{} {}", word(&ADJECTIVES, h, 8), word(&NOUNS, h, 20)),
        2 => write!(out, "{} of the {}", word(&NOUNS, h, 8), word(&NOUNS, h, 20)),
        _ => write!(out, "{}", word(&NOUNS, h, 8)),
    };
}

/// A year from the decade shares.
pub(super) fn year_from(h: u64) -> u16 {
    let total: u64 = YEAR_BUCKETS.iter().map(|b| b.2).sum();
    let mut pick = (h & 0xffff_ffff) % total;
    for &(from, to, weight) in &YEAR_BUCKETS {
        if pick < weight {
            return from + ((h >> 32) % u64::from(to - from)) as u16;
        }
        pick -= weight;
    }
    1998
}

/// A release's year, `None` for 5% of them.
pub(super) fn release_year(hash: Hash, release: u64) -> Option<u16> {
    let h = hash.at(release);
    if mix64(h) % PPM < RELEASE_NO_YEAR_PPM {
        None
    } else {
        Some(year_from(h))
    }
}

const FORMATS_UNDATED: &[&[&str]] = &[
    &["CD", "Album"],
    &["Vinyl", "LP", "Album"],
    &["File", "MP3", "Album"],
];
const FORMATS_SHELLAC: &[&[&str]] = &[&["Shellac", "10\"", "78 RPM"]];
const FORMATS_VINYL: &[&[&str]] = &[
    &["Vinyl", "LP", "Album"],
    &["Vinyl", "7\"", "Single"],
    &["Vinyl", "12\"", "Compilation"],
    &["Cassette", "Album"],
];
const FORMATS_CD: &[&[&str]] = &[
    &["CD", "Album"],
    &["CD", "Single"],
    &["CD", "Compilation"],
    &["Vinyl", "12\"", "33 ⅓ RPM"],
    &["Cassette", "Album"],
];
const FORMATS_FILE: &[&[&str]] = &[
    &["File", "MP3", "Album"],
    &["File", "FLAC", "EP"],
    &["CD", "Album"],
    &["Vinyl", "LP", "Album", "Reissue"],
    &["File", "WAV", "Single"],
];

pub(super) fn formats(year: Option<u16>, h: u64) -> &'static [&'static str] {
    let era = match year {
        None => FORMATS_UNDATED,
        Some(y) if y < 1950 => FORMATS_SHELLAC,
        Some(y) if y < 1985 => FORMATS_VINYL,
        Some(y) if y < 2005 => FORMATS_CD,
        Some(_) => FORMATS_FILE,
    };
    era[(h % era.len() as u64) as usize]
}

/// Writes into a `Value::Str` slot, reusing its allocation.
pub(super) fn set_str(slot: &mut Value, write: impl FnOnce(&mut String)) {
    if let Value::Str(s) = slot {
        s.clear();
        write(s);
    }
}

/// Writes into a `Value::StrList` slot, reusing its allocations.
pub(super) fn set_list(slot: &mut Value, items: &[&str]) {
    if let Value::StrList(list) = slot {
        list.truncate(items.len());
        for (i, item) in items.iter().enumerate() {
            match list.get_mut(i) {
                Some(s) => {
                    s.clear();
                    s.push_str(item);
                }
                None => list.push((*item).to_string()),
            }
        }
    }
}

pub(super) fn id_slot(slot: &mut Value, prefix: char, index: u64) {
    set_str(slot, |s| {
        let _ = write!(s, "{prefix}{}", index + 1);
    });
}
