//! Layout: ranks, order in each rank, positions, right-angled edges.

use crate::{Error, Result};

/// Graphviz's `rankdir`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum RankDir {
    TB,
    BT,
    LR,
    RL,
}

impl RankDir {
    pub(super) fn parse(s: &str) -> Result<RankDir> {
        match s.to_ascii_uppercase().as_str() {
            "TB" => Ok(RankDir::TB),
            "BT" => Ok(RankDir::BT),
            "LR" => Ok(RankDir::LR),
            "RL" => Ok(RankDir::RL),
            _ => Err(Error::value(format!(
                "plot_model: rankdir must be \"TB\", \"LR\", \"BT\" or \"RL\"; received \"{s}\""
            ))),
        }
    }
    fn vertical(self) -> bool {
        matches!(self, RankDir::TB | RankDir::BT)
    }
}

/// Where everything goes, in points.
#[derive(Debug)]
pub(super) struct Layout {
    pub(super) width: f64,
    pub(super) height: f64,
    /// Top-left corner of each box.
    pub(super) boxes: Vec<(f64, f64)>,
    pub(super) edges: Vec<EdgePath>,
}

/// A drawn connection: a polyline ending at the base of its arrowhead.
#[derive(Debug)]
pub(super) struct EdgePath {
    pub(super) from: usize,
    pub(super) to: usize,
    pub(super) points: Vec<(f64, f64)>,
    pub(super) arrow: [(f64, f64); 3],
}

const MARGIN: f64 = 8.0;
const NODE_SEP: f64 = 18.0; // Graphviz's nodesep, 0.25 inch
const RANK_SEP: f64 = 36.0; // Graphviz's ranksep, 0.5 inch
const CHANNEL_SEP: f64 = 9.0; // between the horizontal runs of edges in one gap
const DUMMY_SIZE: f64 = 8.0; // room for an edge passing through a rank
const ARROW_LEN: f64 = 10.0;
const ARROW_WIDTH: f64 = 7.0;
const LOOP: f64 = 20.0; // how far a self-loop reaches out of its box

/// Isotonic fit with minimum gaps: the positions closest (least squares) to `desired` that keep
/// their order and at least `gaps[i]` between item `i` and `i + 1`.
fn pack(desired: &[f64], gaps: &[f64]) -> Vec<f64> {
    let mut offsets = vec![0.0; desired.len()];
    for i in 1..desired.len() {
        offsets[i] = offsets[i - 1] + gaps[i - 1];
    }
    // Pool adjacent violators on desired - offset.
    let mut blocks: Vec<(f64, usize)> = vec![]; // (sum, count)
    for (d, o) in desired.iter().zip(&offsets) {
        blocks.push((d - o, 1));
        while blocks.len() >= 2 {
            let (s2, c2) = blocks[blocks.len() - 1];
            let (s1, c1) = blocks[blocks.len() - 2];
            if s1 / c1 as f64 > s2 / c2 as f64 {
                blocks.pop();
                let last = blocks.len() - 1;
                blocks[last] = (s1 + s2, c1 + c2);
            } else {
                break;
            }
        }
    }
    let mut out = Vec::with_capacity(desired.len());
    for (s, c) in blocks {
        for _ in 0..c {
            out.push(s / c as f64);
        }
    }
    out.iter().zip(&offsets).map(|(y, o)| y + o).collect()
}

/// Edge crossings between two adjacent ranks, for segments given as (position above,
/// position below).
fn crossings(segs: &[(usize, usize)]) -> usize {
    let mut n = 0;
    for (i, a) in segs.iter().enumerate() {
        for b in &segs[i + 1..] {
            if (a.0 < b.0 && a.1 > b.1) || (a.0 > b.0 && a.1 < b.1) {
                n += 1;
            }
        }
    }
    n
}

/// Lays out boxes of `sizes` (width, height) joined by `edges`.
pub(super) fn layout(sizes: &[(f64, f64)], edges: &[(usize, usize)], dir: RankDir) -> Layout {
    let n = sizes.len();
    // Sizes across the ranks and along them.
    let across_of = |(w, h): (f64, f64)| if dir.vertical() { w } else { h };
    let along_of = |(w, h): (f64, f64)| if dir.vertical() { h } else { w };

    let loops: Vec<usize> = edges
        .iter()
        .filter(|(a, b)| a == b)
        .map(|(a, _)| *a)
        .collect();
    let real: Vec<(usize, usize, usize)> = edges
        .iter()
        .enumerate()
        .filter(|(_, (a, b))| a != b)
        .map(|(i, &(a, b))| (i, a, b))
        .collect();

    // 1. Break cycles (a shared layer fed by its own descendants): a depth-first walk from the
    //    sources turns back edges around.
    let mut out: Vec<Vec<(usize, usize)>> = vec![vec![]; n]; // (edge index in `real`, target)
    let mut has_pred = vec![false; n];
    for (k, &(_, a, b)) in real.iter().enumerate() {
        out[a].push((k, b));
        has_pred[b] = true;
    }
    let mut reversed = vec![false; real.len()];
    let mut state = vec![0u8; n]; // 0 unseen, 1 on the walk, 2 done
    let starts: Vec<usize> = (0..n).filter(|&v| !has_pred[v]).chain(0..n).collect();
    for s in starts {
        if state[s] != 0 {
            continue;
        }
        let mut stack = vec![(s, 0usize)];
        state[s] = 1;
        while let Some(&mut (v, ref mut i)) = stack.last_mut() {
            if let Some(&(k, w)) = out[v].get(*i) {
                *i += 1;
                match state[w] {
                    0 => {
                        state[w] = 1;
                        stack.push((w, 0));
                    }
                    1 => reversed[k] = true,
                    _ => {}
                }
            } else {
                state[v] = 2;
                stack.pop();
            }
        }
    }
    let dag: Vec<(usize, usize)> = real
        .iter()
        .zip(&reversed)
        .map(|(&(_, a, b), &r)| if r { (b, a) } else { (a, b) })
        .collect();

    // 2. Ranks: longest path from the sources; sources then sit just above their first user.
    let mut indeg = vec![0usize; n];
    let mut succ: Vec<Vec<usize>> = vec![vec![]; n];
    for &(a, b) in &dag {
        indeg[b] += 1;
        succ[a].push(b);
    }
    let mut rank = vec![0usize; n];
    let mut queue: Vec<usize> = (0..n).filter(|&v| indeg[v] == 0).collect();
    let mut head = 0;
    while head < queue.len() {
        let v = queue[head];
        head += 1;
        for &w in &succ[v] {
            rank[w] = rank[w].max(rank[v] + 1);
            indeg[w] -= 1;
            if indeg[w] == 0 {
                queue.push(w);
            }
        }
    }
    let is_source: Vec<bool> = (0..n).map(|v| !dag.iter().any(|&(_, b)| b == v)).collect();
    for v in 0..n {
        if is_source[v] && !succ[v].is_empty() {
            rank[v] = succ[v].iter().map(|&w| rank[w]).min().unwrap_or(1) - 1;
        }
    }
    let n_ranks = rank.iter().max().map_or(0, |r| r + 1);

    // 3. Chains: an edge over several ranks passes through one dummy node per rank between.
    let mut node_rank = rank.clone();
    let mut across: Vec<f64> = sizes.iter().map(|&s| across_of(s)).collect();
    let mut along: Vec<f64> = sizes.iter().map(|&s| along_of(s)).collect();
    let mut right_extra = vec![0.0; n];
    for &v in &loops {
        right_extra[v] = LOOP + 4.0;
    }
    let mut chains: Vec<Vec<usize>> = vec![];
    for &(a, b) in &dag {
        let mut chain = vec![a];
        for r in rank[a] + 1..rank[b] {
            node_rank.push(r);
            across.push(DUMMY_SIZE);
            along.push(0.0);
            right_extra.push(0.0);
            chain.push(node_rank.len() - 1);
        }
        chain.push(b);
        chains.push(chain);
    }
    let total = node_rank.len();
    let mut preds: Vec<Vec<usize>> = vec![vec![]; total];
    let mut succs: Vec<Vec<usize>> = vec![vec![]; total];
    for c in &chains {
        for w in c.windows(2) {
            succs[w[0]].push(w[1]);
            preds[w[1]].push(w[0]);
        }
    }

    // 4. Order in each rank: barycenters, sweeping down and up, keeping the best.
    let mut ranks: Vec<Vec<usize>> = vec![vec![]; n_ranks];
    for v in 0..total {
        ranks[node_rank[v]].push(v);
    }
    let mut index = vec![0usize; total];
    let reindex = |ranks: &Vec<Vec<usize>>, index: &mut Vec<usize>| {
        for r in ranks {
            for (i, &v) in r.iter().enumerate() {
                index[v] = i;
            }
        }
    };
    reindex(&ranks, &mut index);
    let count = |index: &Vec<usize>| -> usize {
        (0..n_ranks.saturating_sub(1))
            .map(|r| {
                let segs: Vec<(usize, usize)> = (0..total)
                    .filter(|&v| node_rank[v] == r)
                    .flat_map(|v| succs[v].iter().map(move |&w| (v, w)))
                    .map(|(v, w)| (index[v], index[w]))
                    .collect();
                crossings(&segs)
            })
            .sum()
    };
    let mut best = (count(&index), ranks.clone());
    for it in 0..24 {
        if best.0 == 0 {
            break;
        }
        let down = it % 2 == 0;
        let order: Vec<usize> = if down {
            (1..n_ranks).collect()
        } else {
            (0..n_ranks.saturating_sub(1)).rev().collect()
        };
        for r in order {
            let key = |v: usize| -> f64 {
                let nb = if down { &preds[v] } else { &succs[v] };
                if nb.is_empty() {
                    index[v] as f64
                } else {
                    nb.iter().map(|&u| index[u] as f64).sum::<f64>() / nb.len() as f64
                }
            };
            let mut keyed: Vec<(f64, usize)> = ranks[r].iter().map(|&v| (key(v), v)).collect();
            keyed.sort_by(|a, b| a.0.total_cmp(&b.0));
            ranks[r] = keyed.into_iter().map(|(_, v)| v).collect();
            for (i, &v) in ranks[r].iter().enumerate() {
                index[v] = i;
            }
        }
        let c = count(&index);
        if c < best.0 {
            best = (c, ranks.clone());
        }
    }
    let ranks = best.1;
    reindex(&ranks, &mut index);

    // 5. Positions across the ranks: each box near the mean of its neighbours, boxes of a rank
    //    kept in order and apart.
    let gaps = |r: &Vec<usize>| -> Vec<f64> {
        r.windows(2)
            .map(|w| (across[w[0]] + across[w[1]]) / 2.0 + right_extra[w[0]] + NODE_SEP)
            .collect()
    };
    let mut x = vec![0.0; total];
    for r in &ranks {
        let p = pack(&vec![0.0; r.len()], &gaps(r));
        for (&v, p) in r.iter().zip(p) {
            x[v] = p;
        }
    }
    let place = |x: &mut Vec<f64>, r: &Vec<usize>, nbs: &dyn Fn(usize) -> Vec<usize>| {
        let desired: Vec<f64> = r
            .iter()
            .map(|&v| {
                let nb = nbs(v);
                if nb.is_empty() {
                    x[v]
                } else {
                    nb.iter().map(|&u| x[u]).sum::<f64>() / nb.len() as f64
                }
            })
            .collect();
        for (&v, p) in r.iter().zip(pack(&desired, &gaps(r))) {
            x[v] = p;
        }
    };
    for _ in 0..12 {
        for r in ranks.iter().skip(1) {
            place(&mut x, r, &|v| preds[v].clone());
        }
        for r in ranks.iter().rev().skip(1) {
            place(&mut x, r, &|v| succs[v].clone());
        }
    }
    for r in &ranks {
        place(&mut x, r, &|v| {
            let mut nb = preds[v].clone();
            nb.extend(&succs[v]);
            nb
        });
    }
    // Straighten runs of single links (a box with one successor feeding a box with one
    // predecessor, and long edges through their dummies): one column for the whole run where
    // the neighbours in each rank leave room.
    let mut index_in_rank = vec![0usize; total];
    for r in &ranks {
        for (i, &v) in r.iter().enumerate() {
            index_in_rank[v] = i;
        }
    }
    let tight = |a: usize, b: usize| succs[a].len() == 1 && preds[b].len() == 1 && succs[a][0] == b;
    let mut runs: Vec<Vec<usize>> = vec![];
    for v in 0..total {
        let starts_run = preds[v].len() != 1 || !tight(preds[v][0], v);
        if !starts_run || succs[v].len() != 1 || !tight(v, succs[v][0]) {
            continue;
        }
        let mut run = vec![v];
        let mut cur = v;
        while succs[cur].len() == 1 && tight(cur, succs[cur][0]) {
            cur = succs[cur][0];
            run.push(cur);
        }
        runs.push(run);
    }
    // Long edges first, then longer runs.
    runs.sort_by_key(|r| {
        (
            std::cmp::Reverse(r.iter().filter(|&&v| v >= n).count()),
            std::cmp::Reverse(r.len()),
        )
    });
    for run in &runs {
        let fits = |x: &Vec<f64>, v: usize, c: f64| -> bool {
            let r = &ranks[node_rank[v]];
            let i = index_in_rank[v];
            let left_ok = i == 0 || {
                let u = r[i - 1];
                c - x[u] >= (across[u] + across[v]) / 2.0 + right_extra[u] + NODE_SEP - 1e-6
            };
            let right_ok = i + 1 == r.len() || {
                let w = r[i + 1];
                x[w] - c >= (across[v] + across[w]) / 2.0 + right_extra[v] + NODE_SEP - 1e-6
            };
            left_ok && right_ok
        };
        let cost = |c: f64| run.iter().map(|&v| (x[v] - c).abs()).sum::<f64>();
        let mut best: Option<(f64, f64)> = None;
        for &cand in run.iter() {
            let c = x[cand];
            if run.iter().all(|&v| fits(&x, v, c)) {
                let k = cost(c);
                if best.is_none_or(|(_, bk)| k < bk) {
                    best = Some((c, k));
                }
            }
        }
        if let Some((c, _)) = best {
            for &v in run {
                x[v] = c;
            }
        }
    }
    let min_x = (0..total)
        .map(|v| x[v] - across[v] / 2.0)
        .fold(f64::INFINITY, f64::min);
    for xv in x.iter_mut() {
        *xv += MARGIN - min_x;
    }
    let extent_across = (0..total)
        .map(|v| x[v] + across[v] / 2.0 + right_extra[v])
        .fold(0.0, f64::max)
        + MARGIN;

    // 6. Ports: edges leave a box's far side and enter its near side, spread in the order of
    //    the boxes at their other ends.
    let spread = |v: usize, k: usize, i: usize| -> f64 {
        if k <= 1 {
            return x[v];
        }
        let step = (across[v] * 0.7 / (k - 1) as f64).min(14.0);
        x[v] + (i as f64 - (k - 1) as f64 / 2.0) * step
    };
    let mut out_port = vec![0.0; chains.len()];
    let mut in_port = vec![0.0; chains.len()];
    for v in 0..n {
        let mut outs: Vec<usize> = (0..chains.len()).filter(|&c| chains[c][0] == v).collect();
        outs.sort_by(|&a, &b| x[chains[a][1]].total_cmp(&x[chains[b][1]]));
        for (i, &c) in outs.iter().enumerate() {
            out_port[c] = spread(v, outs.len(), i);
        }
        let mut ins: Vec<usize> = (0..chains.len())
            .filter(|&c| *chains[c].last().expect("two ends") == v)
            .collect();
        ins.sort_by(|&a, &b| {
            let pa = chains[a][chains[a].len() - 2];
            let pb = chains[b][chains[b].len() - 2];
            x[pa].total_cmp(&x[pb])
        });
        for (i, &c) in ins.iter().enumerate() {
            in_port[c] = spread(v, ins.len(), i);
        }
    }
    // The across position where chain `c` leaves its `j`-th node and enters its `j+1`-th.
    let leave = |c: usize, j: usize| {
        if j == 0 {
            out_port[c]
        } else {
            x[chains[c][j]]
        }
    };
    let enter = |c: usize, j: usize| {
        if j + 1 == chains[c].len() - 1 {
            in_port[c]
        } else {
            x[chains[c][j + 1]]
        }
    };

    // 7. Positions along the ranks; each gap gets one channel per edge that turns in it.
    let mut turning: Vec<Vec<(usize, usize)>> = vec![vec![]; n_ranks]; // per gap: (chain, step)
    for (c, chain) in chains.iter().enumerate() {
        for j in 0..chain.len() - 1 {
            if (leave(c, j) - enter(c, j)).abs() > 0.5 {
                turning[node_rank[chain[j]]].push((c, j));
            }
        }
    }
    let thickness: Vec<f64> = ranks
        .iter()
        .map(|r| r.iter().map(|&v| along[v]).fold(0.0, f64::max))
        .collect();
    let mut band_start = vec![0.0; n_ranks];
    let mut gap_size = vec![0.0; n_ranks];
    let mut pos = MARGIN;
    for r in 0..n_ranks {
        band_start[r] = pos;
        pos += thickness[r];
        gap_size[r] = RANK_SEP.max(CHANNEL_SEP * (turning[r].len() as f64 + 1.0));
        if r + 1 < n_ranks {
            pos += gap_size[r];
        }
    }
    let extent_along = pos + MARGIN;
    let center = |v: usize| band_start[node_rank[v]] + thickness[node_rank[v]] / 2.0;
    let mut channel: std::collections::HashMap<(usize, usize), f64> = Default::default();
    for (r, t) in turning.iter_mut().enumerate() {
        // Edges heading the same way in order of their start, so their runs nest.
        t.sort_by(|&(c1, j1), &(c2, j2)| {
            let (a1, b1) = (leave(c1, j1), enter(c1, j1));
            let (a2, b2) = (leave(c2, j2), enter(c2, j2));
            (b1 > a1).cmp(&(b2 > a2)).then(if b1 > a1 {
                a2.total_cmp(&a1)
            } else {
                a1.total_cmp(&a2)
            })
        });
        let start = band_start[r] + thickness[r];
        let m = t.len() as f64;
        for (i, &k) in t.iter().enumerate() {
            channel.insert(k, start + gap_size[r] * (i as f64 + 1.0) / (m + 1.0));
        }
    }

    // Abstract (across, along) to picture coordinates.
    let (width, height) = if dir.vertical() {
        (extent_across, extent_along)
    } else {
        (extent_along, extent_across)
    };
    let to_xy = |a: f64, l: f64| -> (f64, f64) {
        match dir {
            RankDir::TB => (a, l),
            RankDir::BT => (a, extent_along - l),
            RankDir::LR => (l, a),
            RankDir::RL => (extent_along - l, a),
        }
    };
    let boxes: Vec<(f64, f64)> = (0..n)
        .map(|v| {
            let (cx, cy) = to_xy(x[v], center(v));
            (cx - sizes[v].0 / 2.0, cy - sizes[v].1 / 2.0)
        })
        .collect();

    let finish = |from: usize, to: usize, mut pts: Vec<(f64, f64)>| -> EdgePath {
        pts.dedup_by(|a, b| (a.0 - b.0).abs() < 1e-9 && (a.1 - b.1).abs() < 1e-9);
        let tip = pts[pts.len() - 1];
        let prev = pts[pts.len() - 2];
        let (dx, dy) = (tip.0 - prev.0, tip.1 - prev.1);
        let len = (dx * dx + dy * dy).sqrt().max(1e-9);
        let (ux, uy) = (dx / len, dy / len);
        let base = (tip.0 - ux * ARROW_LEN, tip.1 - uy * ARROW_LEN);
        let (px, py) = (-uy * ARROW_WIDTH / 2.0, ux * ARROW_WIDTH / 2.0);
        let last = pts.len() - 1;
        pts[last] = base;
        EdgePath {
            from,
            to,
            points: pts,
            arrow: [tip, (base.0 + px, base.1 + py), (base.0 - px, base.1 - py)],
        }
    };

    let mut paths = vec![];
    for (c, chain) in chains.iter().enumerate() {
        let first = chain[0];
        let mut pts = vec![to_xy(out_port[c], center(first) + along[first] / 2.0)];
        for j in 0..chain.len() - 1 {
            let (a, b) = (leave(c, j), enter(c, j));
            if let Some(&ch) = channel.get(&(c, j)) {
                pts.push(to_xy(a, ch));
                pts.push(to_xy(b, ch));
            }
            let next = chain[j + 1];
            if next >= n {
                continue; // a dummy: the edge runs straight on through its rank
            }
            pts.push(to_xy(b, center(next) - along[next] / 2.0));
        }
        let (_, a, b) = real[c];
        if reversed[c] {
            pts.reverse();
        }
        paths.push(finish(a, b, pts));
    }
    for &v in &loops {
        let side = x[v] + across[v] / 2.0;
        let c = center(v);
        let d = (along[v] / 4.0).min(8.0);
        let pts = vec![
            to_xy(side, c - d),
            to_xy(side + LOOP, c - d),
            to_xy(side + LOOP, c + d),
            to_xy(side, c + d),
        ];
        paths.push(finish(v, v, pts));
    }
    // Edges in the order they were given.
    let order: Vec<(usize, usize)> = edges.to_vec();
    paths.sort_by_key(|p| {
        order
            .iter()
            .position(|&e| e == (p.from, p.to))
            .unwrap_or(usize::MAX)
    });

    Layout {
        width: width.ceil(),
        height: height.ceil(),
        boxes,
        edges: paths,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pack_keeps_order_and_gaps() {
        assert_eq!(pack(&[0.0, 0.0], &[10.0]), vec![-5.0, 5.0]);
        assert_eq!(pack(&[0.0, 50.0], &[10.0]), vec![0.0, 50.0]);
        let p = pack(&[5.0, 0.0, 20.0], &[4.0, 4.0]);
        assert!(p[1] - p[0] >= 4.0 - 1e-9 && p[2] - p[1] >= 4.0 - 1e-9);
    }

    #[test]
    fn chain_is_one_straight_column() {
        let sizes = vec![(100.0, 40.0); 3];
        let l = layout(&sizes, &[(0, 1), (1, 2)], RankDir::TB);
        assert_eq!(l.edges.len(), 2);
        let xs: Vec<f64> = l.boxes.iter().map(|b| b.0).collect();
        assert!(xs.iter().all(|x| (x - xs[0]).abs() < 1e-6), "{xs:?}");
        assert!(l.boxes[0].1 < l.boxes[1].1 && l.boxes[1].1 < l.boxes[2].1);
        // Straight edges: two points each, from one box's bottom to the next box's top.
        for e in &l.edges {
            assert_eq!(e.points.len(), 2);
            let (tip, from) = (e.arrow[0], l.boxes[e.from]);
            assert!((tip.1 - l.boxes[e.to].1).abs() < 1e-6);
            assert!((e.points[0].1 - (from.1 + 40.0)).abs() < 1e-6);
        }
    }

    #[test]
    fn left_to_right_and_long_edges() {
        // 0 -> 1 -> 2 and a skip 0 -> 2: the skip goes around box 1.
        let sizes = vec![(60.0, 30.0); 3];
        let l = layout(&sizes, &[(0, 1), (1, 2), (0, 2)], RankDir::LR);
        assert!(l.boxes[0].0 < l.boxes[1].0 && l.boxes[1].0 < l.boxes[2].0);
        let skip = &l.edges[2];
        let b1 = l.boxes[1];
        for w in skip.points.windows(2) {
            // No segment passes through box 1.
            let (x0, x1) = (w[0].0.min(w[1].0), w[0].0.max(w[1].0));
            let (y0, y1) = (w[0].1.min(w[1].1), w[0].1.max(w[1].1));
            let overlap = x1 > b1.0 && x0 < b1.0 + 60.0 && y1 > b1.1 && y0 < b1.1 + 30.0;
            assert!(!overlap, "{:?} crosses box 1 at {b1:?}", w);
        }
    }

    #[test]
    fn cycles_and_self_loops_lay_out() {
        let sizes = vec![(50.0, 20.0); 3];
        let l = layout(&sizes, &[(0, 1), (1, 2), (2, 1), (1, 1)], RankDir::TB);
        assert_eq!(l.edges.len(), 4);
        assert_eq!((l.edges[2].from, l.edges[2].to), (2, 1));
        // The back edge's arrow points up, into box 1's bottom.
        let tip = l.edges[2].arrow[0];
        assert!((tip.1 - (l.boxes[1].1 + 20.0)).abs() < 1e-6, "{tip:?}");
    }
}
