//! The floor: the least work a WebSocket echo server can do per message,
//! written by hand for the load generator's traffic and no other. Not a
//! library and not usable as one: it trusts the client to send only whole
//! single-frame messages, checks nothing but what rfc6455's frame header
//! codec rejects (reserved opcodes; no UTF-8, no close codes, no limits,
//! no fragments), and unmasks each payload in place in its read buffer and
//! writes it back from there. It allocates nothing once running, and
//! copies only the start of a frame left at the end of its buffer when the
//! next read needs the room, moved to the front as every library's read
//! buffer does.
//!
//! It answers one question: what does this machine's kernel leave for a
//! library to win? Every library's echo costs at least what the floor's
//! does, so a ratio the floor does not reach against the peers, no library
//! reaches either.
//!
//! - `floor`: one vectored write (header and payload) per message, as the
//!   peers' `send` does.
//! - `floor-batched`: the replies to every whole frame of one read in one
//!   vectored write, as rfc6455's `read()`/`send()` loop batches them.
//!
//! Reads are [`READ`] bytes (128 KiB, rfc6455's default), or
//! `FLOOR_READ_KIB` KiB when that is set in the server's environment.

use std::io::{self, IoSlice};
use std::ops::Range;

use rfc6455::frame::{FrameHeader, MAX_HEADER_LEN};
use rfc6455::{OpCode, ProtocolError};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The default size of one read.
pub const READ: usize = 128 << 10;

/// The most slices one vectored write takes (Linux's `IOV_MAX` is 1024).
const MAX_SLICES: usize = 64;

/// A reply waiting in the read buffer: its header, and where its payload
/// (unmasked in place) lies.
struct Reply {
    header: [u8; MAX_HEADER_LEN],
    header_len: usize,
    payload: Range<usize>,
}

/// Echoes every text and binary message on an upgraded stream until the
/// client closes or sends a close frame; `batched` picks the variant.
pub async fn echo(mut stream: TcpStream, batched: bool) -> Result<(), BoxError> {
    let read = std::env::var("FLOOR_READ_KIB")
        .ok()
        .and_then(|kib| kib.parse::<usize>().ok())
        .map_or(READ, |kib| kib << 10);
    // Room for a read after a partial frame of up to 64 KiB and its
    // header; grown for longer frames.
    let mut buf = vec![0u8; 2 * read + (65 << 10)];
    let (mut start, mut end) = (0, 0);
    let mut replies = Vec::new();
    loop {
        if buf.len() - end < read {
            buf.copy_within(start..end, 0);
            end -= start;
            start = 0;
            if buf.len() - end < read {
                buf.resize(end + read, 0);
            }
        }
        let n = stream.read(&mut buf[end..end + read]).await?;
        if n == 0 {
            return Ok(());
        }
        end += n;
        while let Some((opcode, payload)) = next_frame(&mut buf[start..end])? {
            let payload = start + payload.start..start + payload.end;
            start = payload.end;
            match opcode {
                OpCode::Close => {
                    // The replies to the frames before it go out first.
                    write_replies(&mut stream, &buf, &replies).await?;
                    return Ok(());
                }
                OpCode::Text | OpCode::Binary => {
                    replies.push(reply(opcode, payload));
                    if !batched {
                        write_replies(&mut stream, &buf, &replies).await?;
                        replies.clear();
                    }
                }
                _ => {}
            }
        }
        write_replies(&mut stream, &buf, &replies).await?;
        replies.clear();
        if start == end {
            (start, end) = (0, 0);
        }
    }
}

/// The opcode and payload range of the whole frame at the front of
/// `bytes`, its payload unmasked; `None` until the frame is whole. The
/// header is read by rfc6455's codec, which rejects only reserved opcodes
/// and impossible lengths; an unmasked frame counts as masked with 0.
fn next_frame(bytes: &mut [u8]) -> Result<Option<(OpCode, Range<usize>)>, ProtocolError> {
    let Some((header, at)) = FrameHeader::parse(bytes)? else {
        return Ok(None);
    };
    let Some(payload) = usize::try_from(header.payload_len)
        .ok()
        .map(|len| at..at + len)
        .filter(|payload| payload.end <= bytes.len())
    else {
        return Ok(None);
    };
    rfc6455::frame::apply_mask(&mut bytes[payload.clone()], header.mask.unwrap_or_default());
    Ok(Some((header.opcode, payload)))
}

/// A reply with the server's unmasked, final frame header for `payload`.
fn reply(opcode: OpCode, payload: Range<usize>) -> Reply {
    let mut header = [0; MAX_HEADER_LEN];
    let header_len = FrameHeader {
        fin: true,
        rsv: 0,
        opcode,
        mask: None,
        payload_len: payload.len() as u64,
    }
    .encode(&mut header);
    Reply {
        header,
        header_len,
        payload,
    }
}

/// Writes the replies, headers and payloads, in as few vectored writes as
/// the socket takes them, the slices of each on the stack.
async fn write_replies(stream: &mut TcpStream, buf: &[u8], replies: &[Reply]) -> io::Result<()> {
    // Piece `i`: reply `i / 2`'s header when `i` is even, its payload after.
    let piece = |i: usize| {
        let reply = &replies[i / 2];
        if i.is_multiple_of(2) {
            &reply.header[..reply.header_len]
        } else {
            &buf[reply.payload.clone()]
        }
    };
    let pieces = 2 * replies.len();
    // The next piece to write, and how much of it is written already.
    let (mut next, mut done) = (0, 0);
    while next < pieces {
        let mut slices = [IoSlice::new(&[]); MAX_SLICES];
        let count = (pieces - next).min(MAX_SLICES);
        for (k, slice) in slices[..count].iter_mut().enumerate() {
            let skip = if k == 0 { done } else { 0 };
            *slice = IoSlice::new(&piece(next + k)[skip..]);
        }
        let written = stream.write_vectored(&slices[..count]).await?;
        if written == 0 {
            return Err(io::ErrorKind::WriteZero.into());
        }
        done += written;
        while next < pieces && done >= piece(next).len() {
            done -= piece(next).len();
            next += 1;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_frame_is_taken_only_whole_and_unmasked_where_it_lies() {
        for size in [5, 125, 126, 65535, 65536, 70_000] {
            let payload = crate::payload(size, 1);
            let mut wire = Vec::new();
            crate::encode_masked(&mut wire, 0x2, &payload, [1, 2, 3, 4]);
            assert_eq!(next_frame(&mut wire[..wire.len() - 1].to_vec()), Ok(None));
            let (opcode, range) = next_frame(&mut wire).unwrap().expect("whole");
            assert_eq!(opcode, OpCode::Binary);
            assert_eq!(&wire[range.clone()], payload, "{size} B");
            assert_eq!(range.end, wire.len());
        }
    }

    #[test]
    fn a_reply_header_carries_the_length_in_the_shortest_form() {
        for (len, header) in [
            (125, vec![0x81, 125]),
            (126, vec![0x81, 126, 0, 126]),
            (65535, vec![0x81, 126, 0xff, 0xff]),
            (65536, vec![0x81, 127, 0, 0, 0, 0, 0, 1, 0, 0]),
        ] {
            let reply = reply(OpCode::Text, 0..len);
            assert_eq!(&reply.header[..reply.header_len], header);
        }
    }

    #[test]
    fn both_variants_echo_every_message_in_order_over_a_socket() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        for batched in [false, true] {
            runtime.block_on(async {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                let client = TcpStream::connect(listener.local_addr().unwrap())
                    .await
                    .unwrap();
                let (server, _) = listener.accept().await.unwrap();
                let echo = tokio::spawn(echo(server, batched));
                let sizes = [0, 5, 126, 65536, 70_000, 3, 300_000];
                let mut wire = Vec::new();
                let mut expected = Vec::new();
                for (index, size) in sizes.into_iter().enumerate() {
                    let payload = crate::payload(size, index);
                    crate::encode_masked(&mut wire, 0x2, &payload, [9, 8, 7, index as u8]);
                    let header = reply(OpCode::Binary, 0..size);
                    expected.extend_from_slice(&header.header[..header.header_len]);
                    expected.extend_from_slice(&payload);
                }
                crate::encode_masked(&mut wire, 0x8, &[], [1, 1, 1, 1]);
                // Written while the echoes are read, so that neither side
                // waits on a full socket buffer.
                let (mut from_server, mut to_server) = client.into_split();
                let writer = tokio::spawn(async move { to_server.write_all(&wire).await });
                let mut echoed = vec![0; expected.len()];
                from_server.read_exact(&mut echoed).await.unwrap();
                writer.await.unwrap().unwrap();
                assert!(echoed == expected, "batched: {batched}");
                echo.await.unwrap().unwrap();
            });
        }
    }
}
