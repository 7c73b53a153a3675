//! Patched (parlor): exporting a blob from this store without hashing every leaf a second time.
//!
//! Upstream exports through bao-tree's `traverse_ranges_validated`, which hashes each leaf it
//! reads and stops at the first that does not match the outboard. Everything in this store was
//! verified before it was written (imported data is hashed while the outboard is made, fetched
//! data is checked leaf by leaf as it arrives), and whoever receives an export checks every leaf
//! against the root hash it asked for; so the second hash protects no receiver. What it does
//! catch, a file imported by reference and then changed in place, the receiver catches as well:
//! it stops at the first bad leaf, as it would when the sender stopped there. The pass cost
//! the sender a BLAKE3 hash of all it sent: 7.7 % of its CPU samples for a 1 GiB transfer
//! (0.3 % without it). See PATCHED.md.
//!
//! This is bao-tree 0.17's traversal with the hash of whole leaves left out. Parent pairs are
//! still checked against the root (one compression per 16 KiB), and a leaf sent only in part is
//! still encoded and checked by bao-tree's own `traverse_selected_rec`.

use bao_tree::{
    blake3::{
        self,
        hazmat::{merge_subtrees_non_root, merge_subtrees_root, Mode},
    },
    io::{
        mixed::{traverse_selected_rec, EncodedItem, ReadBytesAt, Sender},
        sync::Outboard,
        EncodeError, Leaf, Parent,
    },
    iter::BaoChunk,
    ChunkNum, ChunkRangesRef,
};
use smallvec::SmallVec;

/// Sends the items of `ranges` like `traverse_ranges_validated`, trusting the stored leaves.
pub(super) async fn traverse_ranges_trusting_leaves<D: ReadBytesAt, O: Outboard, F: Sender>(
    data: D,
    outboard: O,
    ranges: &ChunkRangesRef,
    send: &mut F,
) -> Result<(), F::Error> {
    send.send(EncodedItem::Size(outboard.tree().size())).await?;
    let last = match traverse(&data, &outboard, ranges, send).await {
        Ok(Ok(())) => EncodedItem::Done,
        Err(cause) => EncodedItem::Error(cause),
        Ok(Err(err)) => return Err(err),
    };
    send.send(last).await
}

/// The walk itself: `Err` is a problem with our own data (sent on as the last item),
/// `Ok(Err)` the channel closing (returned as it is).
async fn traverse<D: ReadBytesAt, O: Outboard, F: Sender>(
    data: &D,
    outboard: &O,
    ranges: &ChunkRangesRef,
    send: &mut F,
) -> Result<Result<(), F::Error>, EncodeError> {
    let tree = outboard.tree();
    let mut stack = SmallVec::<[blake3::Hash; 10]>::new();
    stack.push(outboard.root());
    let ranges = truncate_ranges(ranges, tree.size());
    for item in tree.ranges_pre_order_chunks_iter_ref(ranges, 0) {
        let item = match item {
            BaoChunk::Parent {
                is_root,
                left,
                right,
                node,
                ..
            } => {
                let (l_hash, r_hash) = outboard.load(node)?.ok_or_else(|| {
                    EncodeError::Io(std::io::Error::new(
                        std::io::ErrorKind::InvalidData,
                        format!("outboard returned no hash pair for node {node}"),
                    ))
                })?;
                if Some(parent_cv(&l_hash, &r_hash, is_root)) != stack.pop() {
                    return Err(EncodeError::ParentHashMismatch(node));
                }
                if right {
                    stack.push(r_hash);
                }
                if left {
                    stack.push(l_hash);
                }
                EncodedItem::Parent(Parent {
                    node,
                    pair: (l_hash, r_hash),
                })
            }
            BaoChunk::Leaf {
                start_chunk,
                size,
                is_root,
                ranges,
                ..
            } => {
                let expected = stack.pop();
                let buffer = data.read_bytes_at(start_chunk.to_bytes(), size)?;
                if ranges.is_all() {
                    EncodedItem::Leaf(Leaf {
                        data: buffer,
                        offset: start_chunk.to_bytes(),
                    })
                } else {
                    // Part of a leaf: bao-tree hashes its chunks to make the proof anyway,
                    // so the check comes free.
                    let mut out = Vec::new();
                    let actual = traverse_selected_rec(
                        start_chunk,
                        buffer,
                        is_root,
                        ranges,
                        u32::from(tree.block_size().chunk_log()),
                        true,
                        &mut out,
                    );
                    if Some(actual) != expected {
                        return Err(EncodeError::LeafHashMismatch(start_chunk));
                    }
                    for item in out {
                        if let Err(e) = send.send(item).await {
                            return Ok(Err(e));
                        }
                    }
                    continue;
                }
            }
        };
        if let Err(e) = send.send(item).await {
            return Ok(Err(e));
        }
    }
    Ok(Ok(()))
}

fn parent_cv(left: &blake3::Hash, right: &blake3::Hash, is_root: bool) -> blake3::Hash {
    let (left, right) = (left.as_bytes(), right.as_bytes());
    if is_root {
        merge_subtrees_root(left, right, Mode::Hash)
    } else {
        merge_subtrees_non_root(left, right, Mode::Hash).into()
    }
}

/// bao-tree's `truncate_ranges` (private there): anything at or past the end of the blob asks
/// for its last chunk, so that a request of unknown size gets a proof of the size.
fn truncate_ranges(ranges: &ChunkRangesRef, size: u64) -> &ChunkRangesRef {
    let last = ChunkNum(ChunkNum::chunks(size).0.saturating_sub(1));
    let bs = ranges.boundaries();
    let len = match bs.binary_search(&last) {
        // The last chunk starts a range: keep it, drop the rest.
        Ok(i) if i % 2 == 0 => i + 1,
        // The last chunk ends a range and nothing follows: as it is.
        Ok(i) if bs.len() == i + 1 => i + 1,
        // It ends a range and more follows: drop the end, so the range stays open.
        Ok(i) => i,
        // It would start a range: keep the next start (if any), so the range stays open.
        Err(i) if i % 2 == 0 => (i + 1).min(bs.len()),
        // It would end a range: the end past it can go.
        Err(i) => i,
    };
    ChunkRangesRef::new_unchecked(&bs[..len])
}

#[cfg(test)]
mod tests {
    use bao_tree::{
        io::{
            mixed::{traverse_ranges_validated, EncodedItem},
            outboard::PreOrderMemOutboard,
        },
        ChunkNum, ChunkRanges,
    };
    use bytes::Bytes;

    use super::traverse_ranges_trusting_leaves;
    use crate::store::IROH_BLOCK_SIZE;

    /// What a traversal of `data` sends for `ranges`, trusting the leaves or validating them.
    async fn sent(
        data: &Bytes,
        outboard: PreOrderMemOutboard,
        ranges: &ChunkRanges,
        trusting: bool,
    ) -> Vec<String> {
        let (mut tx, mut rx) = tokio::sync::mpsc::channel(1 << 16);
        if trusting {
            traverse_ranges_trusting_leaves(data.clone(), outboard, ranges, &mut tx).await
        } else {
            traverse_ranges_validated(data.clone(), outboard, ranges, &mut tx).await
        }
        .expect("receiver alive");
        drop(tx);
        let mut out = Vec::new();
        while let Some(item) = rx.recv().await {
            out.push(name(&item));
        }
        out
    }

    fn name(item: &EncodedItem) -> String {
        match item {
            EncodedItem::Size(size) => format!("size {size}"),
            EncodedItem::Parent(p) => format!("parent {:?} {:?}", p.node, p.pair),
            EncodedItem::Leaf(l) => {
                format!("leaf {} {}", l.offset, bao_tree::blake3::hash(&l.data))
            }
            EncodedItem::Error(e) => format!("error {e:?}"),
            EncodedItem::Done => "done".into(),
        }
    }

    /// Every request gets exactly what bao-tree's validating traversal sends: whole blobs,
    /// ranges inside a leaf and across leaves, open ranges, and ranges past the end (which
    /// ask for the last chunk, the proof of the size).
    #[tokio::test]
    async fn sends_what_the_validating_traversal_sends() {
        let c = |n: u64| ChunkNum(n);
        for size in [
            0usize,
            1,
            1024,
            1025,
            16 * 1024,
            16 * 1024 + 1,
            100_000,
            1 << 20,
        ] {
            let data = Bytes::from((0..size).map(|i| (i % 251) as u8).collect::<Vec<_>>());
            // The last chunk, and ranges that end at it, start at it or skip it.
            let last = ChunkNum::chunks(size as u64).0.saturating_sub(1);
            let requests = [
                ChunkRanges::from(c(last.saturating_sub(3))..c(last))
                    | ChunkRanges::from(c(last + 2)..c(last + 9)),
                ChunkRanges::from(c(last)..c(last + 1)) | ChunkRanges::from(c(last + 3)..),
                ChunkRanges::from(c(0)..c(1)) | ChunkRanges::from(c(last + 1)..c(last + 2)),
                ChunkRanges::all(),
                ChunkRanges::empty(),
                ChunkRanges::from(c(0)..c(1)),
                ChunkRanges::from(c(3)..c(5)),
                ChunkRanges::from(c(15)..c(17)),
                ChunkRanges::from(c(20)..),
                ChunkRanges::from(c(5)..c(7)) | ChunkRanges::from(c(40)..c(90)),
                ChunkRanges::from(c(97)..c(98)),
                ChunkRanges::from(c(1023)..),
                ChunkRanges::from(c(5000)..c(6000)),
            ];
            let outboard = PreOrderMemOutboard::create(&data, IROH_BLOCK_SIZE);
            for ranges in &requests {
                let want = sent(&data, outboard.clone(), ranges, false).await;
                let got = sent(&data, outboard.clone(), ranges, true).await;
                assert_eq!(got, want, "size {size}, ranges {ranges:?}");
            }
        }
    }

    /// A changed leaf is sent as it is (the receiver's check stops there); a leaf sent only
    /// in part, and the hash pairs, are still checked here.
    #[tokio::test]
    async fn trusts_whole_leaves_but_checks_partial_ones() {
        let data = Bytes::from(vec![7u8; 64 * 1024]);
        let outboard = PreOrderMemOutboard::create(&data, IROH_BLOCK_SIZE);
        let mut changed = data.to_vec();
        changed[20 * 1024] ^= 1;
        let changed = Bytes::from(changed);
        let last = |items: Vec<String>| items.last().cloned().unwrap_or_default();
        let whole = sent(&changed, outboard.clone(), &ChunkRanges::all(), true).await;
        assert_eq!(last(whole), "done");
        let part = ChunkRanges::from(ChunkNum(17)..ChunkNum(18));
        let part = sent(&changed, outboard.clone(), &part, true).await;
        assert!(last(part).starts_with("error LeafHashMismatch"));

        let mut bad = outboard;
        bad.data[0] ^= 1;
        let pairs = sent(&data, bad, &ChunkRanges::all(), true).await;
        assert!(last(pairs).starts_with("error ParentHashMismatch"));
    }
}
