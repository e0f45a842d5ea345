//! A client's burst of frames cut into reads at random, for the properties
//! of when an adapter writes what `send` queued.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::Index;
use rfc6455::OpCode;

use super::{client_frame, frames};

/// A frame the client sends: text, binary or ping, with its payload.
pub fn client_message() -> impl Strategy<Value = (u8, Vec<u8>)> {
    prop_oneof![
        vec(b'a'..=b'z', 0..300).prop_map(|p| (0x81, p)),
        vec(any::<u8>(), 0..300).prop_map(|p| (0x82, p)),
        vec(any::<u8>(), 0..=125).prop_map(|p| (0x89, p)),
    ]
}

/// The wire of `messages`, masked as a client sends them, cut at `cuts`
/// into the pieces successive reads return.
pub fn cut_into_reads(messages: &[(u8, Vec<u8>)], cuts: &[Index]) -> Vec<Vec<u8>> {
    let wire: Vec<u8> = messages
        .iter()
        .flat_map(|(first_byte, payload)| client_frame(*first_byte, payload))
        .collect();
    let mut at: Vec<usize> = cuts.iter().map(|cut| cut.index(wire.len() + 1)).collect();
    at.extend([0, wire.len()]);
    at.sort_unstable();
    at.dedup();
    at.windows(2).map(|w| wire[w[0]..w[1]].to_vec()).collect()
}

/// How many of `messages` are data (text or binary), not pings.
pub fn data_count(messages: &[(u8, Vec<u8>)]) -> usize {
    messages
        .iter()
        .filter(|(first_byte, _)| *first_byte != 0x89)
        .count()
}

/// The payloads of the frames with one of `opcodes` in what a server wrote.
pub fn payloads_written(wire: &[u8], opcodes: &[OpCode]) -> Vec<Vec<u8>> {
    frames(wire)
        .into_iter()
        .filter(|(header, _)| opcodes.contains(&header.opcode))
        .map(|(_, payload)| payload)
        .collect()
}

/// Panics unless every payload in `sent` was written, in order, as a data
/// frame of `wire`: checked by a test's stream on each read.
fn assert_sent_were_written(sent: &[Vec<u8>], wire: &[u8]) {
    let written = payloads_written(wire, &[OpCode::Text, OpCode::Binary]);
    assert!(
        written.len() >= sent.len() && written[..sent.len()] == sent[..],
        "a read with sent messages unwritten: {} sent, {} written",
        sent.len(),
        written.len()
    );
}

/// The reply payloads to the `data`-th message: `count` of them.
pub fn replies_to(data: usize, count: usize) -> impl Iterator<Item = Vec<u8>> {
    (0..count).map(move |k| format!("reply {k} to {data}").into_bytes())
}

/// What a test's stream reads: the next of the given pieces, one per read,
/// and then nothing (where a socket's read would wait). Before each read it
/// checks that every payload the test recorded in `sent` was written.
pub struct Script {
    input: VecDeque<Vec<u8>>,
    /// The payloads the test has sent, in order.
    pub sent: Rc<RefCell<Vec<Vec<u8>>>>,
}

impl Script {
    pub fn new(pieces: Vec<Vec<u8>>) -> Script {
        Script {
            input: pieces.into(),
            sent: Rc::default(),
        }
    }

    /// Whether every piece was read.
    pub fn is_done(&self) -> bool {
        self.input.is_empty()
    }

    /// Reads into `buf` as much of the next piece as fits, after checking
    /// `wire`, what the server wrote so far; `None` once no piece is left.
    pub fn read(&mut self, buf: &mut [u8], wire: &[u8]) -> Option<usize> {
        assert_sent_were_written(&self.sent.borrow(), wire);
        let mut piece = self.input.pop_front()?;
        let n = piece.len().min(buf.len());
        buf[..n].copy_from_slice(&piece[..n]);
        if n < piece.len() {
            self.input.push_front(piece.split_off(n));
        }
        Some(n)
    }
}
