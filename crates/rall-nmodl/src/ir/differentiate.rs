//! Symbolic differentiation: a graph node and an input slot in, the node of its partial derivative out (any order, memoised).

use super::graph::{Func, Graph, Node, NodeId};
use std::collections::HashMap;

/// Memoises derivatives so repeated requests share nodes. Comparisons and
/// rounding have derivative 0; `Select` differentiates each branch.
#[derive(Default)]
pub struct Differentiator {
    memo: HashMap<(NodeId, u32), NodeId>,
}

impl Differentiator {
    pub fn new() -> Self {
        Self::default()
    }

    /// ∂node/∂input(slot).
    pub fn derivative(&mut self, g: &mut Graph, id: NodeId, slot: u32) -> NodeId {
        if let Some(&d) = self.memo.get(&(id, slot)) {
            return d;
        }
        let d = self.compute(g, id, slot);
        self.memo.insert((id, slot), d);
        d
    }

    fn compute(&mut self, g: &mut Graph, id: NodeId, slot: u32) -> NodeId {
        if !g.depends_on(id, slot) {
            return g.constant(0.0);
        }
        match g.node(id) {
            Node::Const(_) => g.constant(0.0),
            Node::Input(s) => g.constant(f64::from(s == slot)),
            Node::Neg(a) => {
                let da = self.derivative(g, a, slot);
                g.neg(da)
            }
            Node::Add(a, b) => {
                let (da, db) = (self.derivative(g, a, slot), self.derivative(g, b, slot));
                g.add(da, db)
            }
            Node::Sub(a, b) => {
                let (da, db) = (self.derivative(g, a, slot), self.derivative(g, b, slot));
                g.sub(da, db)
            }
            Node::Mul(a, b) => {
                let (da, db) = (self.derivative(g, a, slot), self.derivative(g, b, slot));
                let (x, y) = (g.mul(da, b), g.mul(a, db));
                g.add(x, y)
            }
            Node::Div(a, b) => {
                // (a/b)' = a'/b - (a/b) b'/b
                let (da, db) = (self.derivative(g, a, slot), self.derivative(g, b, slot));
                let first = g.div(da, b);
                let ratio_db = g.mul(id, db);
                let second = g.div(ratio_db, b);
                g.sub(first, second)
            }
            Node::Pow(a, b) => {
                let (da, db) = (self.derivative(g, a, slot), self.derivative(g, b, slot));
                let mut terms = g.constant(0.0);
                if g.as_const(da) != Some(0.0) {
                    // b a^(b-1) a'
                    let one = g.constant(1.0);
                    let bm1 = g.sub(b, one);
                    let p = g.pow(a, bm1);
                    let t = g.mul(b, p);
                    let t = g.mul(t, da);
                    terms = g.add(terms, t);
                }
                if g.as_const(db) != Some(0.0) {
                    // a^b ln(a) b'
                    let ln = g.call1(Func::Log, a);
                    let t = g.mul(id, ln);
                    let t = g.mul(t, db);
                    terms = g.add(terms, t);
                }
                terms
            }
            Node::Call1(f, a) => {
                let da = self.derivative(g, a, slot);
                let outer = match f {
                    Func::Exp => id,
                    Func::Expm1 => g.call1(Func::Exp, a),
                    Func::Log => {
                        let one = g.constant(1.0);
                        g.div(one, a)
                    }
                    Func::Log10 => {
                        let k = g.constant(std::f64::consts::LN_10);
                        let d = g.mul(a, k);
                        let one = g.constant(1.0);
                        g.div(one, d)
                    }
                    Func::Sqrt => {
                        let two = g.constant(2.0);
                        let d = g.mul(two, id);
                        let one = g.constant(1.0);
                        g.div(one, d)
                    }
                    Func::Fabs => {
                        let zero = g.constant(0.0);
                        let negative = g.lt(a, zero);
                        let (m1, p1) = (g.constant(-1.0), g.constant(1.0));
                        g.select(negative, m1, p1)
                    }
                    Func::Sin => g.call1(Func::Cos, a),
                    Func::Cos => {
                        let s = g.call1(Func::Sin, a);
                        g.neg(s)
                    }
                    Func::Tan => {
                        let c = g.call1(Func::Cos, a);
                        let c2 = g.mul(c, c);
                        let one = g.constant(1.0);
                        g.div(one, c2)
                    }
                    Func::Tanh => {
                        let t2 = g.mul(id, id);
                        let one = g.constant(1.0);
                        g.sub(one, t2)
                    }
                    Func::Floor | Func::Ceil => g.constant(0.0),
                    Func::Exprel => {
                        // d/dx (expm1(x)/x) = (x e^x - expm1(x)) / x², 1/2 at 0
                        let e = g.call1(Func::Exp, a);
                        let xe = g.mul(a, e);
                        let em1 = g.call1(Func::Expm1, a);
                        let num = g.sub(xe, em1);
                        let x2 = g.mul(a, a);
                        let general = g.div(num, x2);
                        let zero = g.constant(0.0);
                        let at_zero = g.eq(a, zero);
                        let half = g.constant(0.5);
                        g.select(at_zero, half, general)
                    }
                    Func::Min | Func::Max | Func::Atan2 => g.constant(f64::NAN),
                };
                g.mul(outer, da)
            }
            Node::Call2(f, a, b) => {
                let (da, db) = (self.derivative(g, a, slot), self.derivative(g, b, slot));
                if f == Func::Atan2 {
                    // d atan2(y, x) = (x dy - y dx) / (x² + y²)
                    let (x_dy, y_dx) = (g.mul(b, da), g.mul(a, db));
                    let num = g.sub(x_dy, y_dx);
                    let (xx, yy) = (g.mul(b, b), g.mul(a, a));
                    let r2 = g.add(xx, yy);
                    return g.div(num, r2);
                }
                let a_lt_b = g.lt(a, b);
                match f {
                    Func::Min => g.select(a_lt_b, da, db),
                    _ => g.select(a_lt_b, db, da),
                }
            }
            Node::Lt(..) | Node::Le(..) | Node::Eq(..) | Node::And(..) | Node::Or(..) | Node::Not(..) => {
                g.constant(0.0)
            }
            Node::Select(c, a, b) => {
                let (da, db) = (self.derivative(g, a, slot), self.derivative(g, b, slot));
                g.select(c, da, db)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// f(x, y) built from every kind of node, with its derivatives checked by central differences.
    #[test]
    fn derivatives_match_central_differences_on_random_inputs() {
        use rand::{Rng, SeedableRng};
        let mut g = Graph::new();
        let (x, y) = (g.input(0), g.input(1));
        let mut terms = Vec::new();
        let e = g.call1(Func::Exp, x);
        terms.push(g.mul(e, y));
        let s = g.call1(Func::Sin, y);
        terms.push(g.div(x, s));
        let three = g.constant(3.0);
        terms.push(g.pow(x, three));
        let ax = g.call1(Func::Fabs, x);
        let q = g.call1(Func::Sqrt, ax);
        terms.push(g.pow(q, y));
        terms.push(g.call1(Func::Exprel, x));
        terms.push(g.call1(Func::Tanh, y));
        terms.push(g.call2(Func::Min, x, y));
        terms.push(g.call2(Func::Atan2, y, x));
        let one = g.constant(1.0);
        let lt = g.lt(x, one);
        let lg = g.call1(Func::Log10, ax);
        let c = g.call1(Func::Cos, y);
        terms.push(g.select(lt, lg, c));
        let mut f = g.constant(0.0);
        for t in terms {
            f = g.add(f, t);
        }
        let mut d = Differentiator::new();
        let dfdx = d.derivative(&mut g, f, 0);
        let dfdy = d.derivative(&mut g, f, 1);
        let d2fdxdy = d.derivative(&mut g, dfdx, 1);
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let mut worst: f64 = 0.0;
        for _ in 0..200 {
            let p = [rng.random_range(-2.0..2.0), rng.random_range(0.3..2.5)];
            let h = 1e-6;
            let at = |g: &Graph, n, dx: f64, dy: f64| g.evaluate(n, &[p[0] + dx, p[1] + dy]);
            let fd_x = (at(&g, f, h, 0.0) - at(&g, f, -h, 0.0)) / (2.0 * h);
            let fd_y = (at(&g, f, 0.0, h) - at(&g, f, 0.0, -h)) / (2.0 * h);
            let fd_xy = (at(&g, dfdx, 0.0, h) - at(&g, dfdx, 0.0, -h)) / (2.0 * h);
            for (exact, fd) in [
                (g.evaluate(dfdx, &p), fd_x),
                (g.evaluate(dfdy, &p), fd_y),
                (g.evaluate(d2fdxdy, &p), fd_xy),
            ] {
                let error = (exact - fd).abs() / (1.0 + fd.abs());
                worst = if error.is_nan() { f64::NAN } else { worst.max(error) };
                // Measured: 7.6e-9 at most (the differences' own error, step 1e-6); limit 66x.
                assert!(error <= 5e-7, "{exact} vs {fd} at {p:?}");
            }
        }
        println!("symbolic derivatives vs central differences: {worst:.1e} at most");
    }

    #[test]
    fn shared_subexpressions_are_one_node() {
        let mut g = Graph::new();
        let x = g.input(0);
        let a = g.call1(Func::Exp, x);
        let b = g.call1(Func::Exp, x);
        assert_eq!(a, b);
        let n = g.len();
        let s1 = g.add(a, x);
        let s2 = g.add(x, a);
        assert_eq!(s1, s2);
        assert_eq!(g.len(), n + 1);
    }
}
