//! Expression graphs: nodes in an arena, hash-consed so equal subexpressions are shared, folded and simplified as they are built.

use std::collections::HashMap;

pub type NodeId = u32;

/// Functions of one or two arguments.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Func {
    Exp,
    Expm1,
    Log,
    Log10,
    Sqrt,
    Fabs,
    Sin,
    Cos,
    Tan,
    Tanh,
    Floor,
    Ceil,
    /// `expm1(x) / x`, 1 at 0: the exact exponential integrator's factor.
    Exprel,
    Min,
    Max,
    /// `atan2(y, x)`: the angle of the point `(x, y)` in (-π, π].
    Atan2,
}

impl Func {
    pub fn apply1(self, x: f64) -> f64 {
        match self {
            Func::Exp => x.exp(),
            Func::Expm1 => x.exp_m1(),
            Func::Log => x.ln(),
            Func::Log10 => x.log10(),
            Func::Sqrt => x.sqrt(),
            Func::Fabs => x.abs(),
            Func::Sin => x.sin(),
            Func::Cos => x.cos(),
            Func::Tan => x.tan(),
            Func::Tanh => x.tanh(),
            Func::Floor => x.floor(),
            Func::Ceil => x.ceil(),
            Func::Exprel => {
                if x == 0.0 {
                    1.0
                } else {
                    x.exp_m1() / x
                }
            }
            Func::Min | Func::Max | Func::Atan2 => f64::NAN,
        }
    }

    pub fn apply2(self, a: f64, b: f64) -> f64 {
        match self {
            Func::Min => min(a, b),
            Func::Max => max(a, b),
            Func::Atan2 => a.atan2(b),
            _ => f64::NAN,
        }
    }
}

/// NMODL's `min`: the smaller argument, the other one where one is NaN (as C's `fmin`), and the second where
/// they compare equal, so that `min(0, -0)` is `-0` in every backend (Rust's and C's own leave that open,
/// and a zero's sign survives into `atan2` or a division).
pub fn min(a: f64, b: f64) -> f64 {
    if a < b || b.is_nan() { a } else { b }
}

/// NMODL's `max`, as [`min`]: the larger argument, the other one where one is NaN, the second where equal.
pub fn max(a: f64, b: f64) -> f64 {
    if a > b || b.is_nan() { a } else { b }
}

/// One node. Comparisons and logic give 1.0 or 0.0.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Node {
    /// A constant, stored as its bit pattern so nodes can be hashed.
    Const(u64),
    /// An input slot of the kernel (voltage, parameter, state, ...).
    Input(u32),
    Neg(NodeId),
    Add(NodeId, NodeId),
    Sub(NodeId, NodeId),
    Mul(NodeId, NodeId),
    Div(NodeId, NodeId),
    Pow(NodeId, NodeId),
    Call1(Func, NodeId),
    Call2(Func, NodeId, NodeId),
    Lt(NodeId, NodeId),
    Le(NodeId, NodeId),
    Eq(NodeId, NodeId),
    And(NodeId, NodeId),
    Or(NodeId, NodeId),
    Not(NodeId),
    /// `if c != 0 { a } else { b }`
    Select(NodeId, NodeId, NodeId),
}

impl Node {
    /// The node's operands.
    pub fn children(self) -> [Option<NodeId>; 3] {
        match self {
            Node::Const(_) | Node::Input(_) => [None, None, None],
            Node::Neg(a) | Node::Call1(_, a) | Node::Not(a) => [Some(a), None, None],
            Node::Add(a, b)
            | Node::Sub(a, b)
            | Node::Mul(a, b)
            | Node::Div(a, b)
            | Node::Pow(a, b)
            | Node::Call2(_, a, b)
            | Node::Lt(a, b)
            | Node::Le(a, b)
            | Node::Eq(a, b)
            | Node::And(a, b)
            | Node::Or(a, b) => [Some(a), Some(b), None],
            Node::Select(c, a, b) => [Some(c), Some(a), Some(b)],
        }
    }
}

/// An arena of nodes; every constructor returns an existing node when an equal one exists.
#[derive(Clone, Debug, Default)]
pub struct Graph {
    nodes: Vec<Node>,
    index: HashMap<Node, NodeId>,
}

impl Graph {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    pub fn node(&self, id: NodeId) -> Node {
        self.nodes[id as usize]
    }

    fn intern(&mut self, node: Node) -> NodeId {
        if let Some(&id) = self.index.get(&node) {
            return id;
        }
        let id = self.nodes.len() as NodeId;
        self.nodes.push(node);
        self.index.insert(node, id);
        id
    }

    pub fn constant(&mut self, x: f64) -> NodeId {
        // -0.0 and 0.0 are one constant.
        let x = if x == 0.0 { 0.0 } else { x };
        self.intern(Node::Const(x.to_bits()))
    }

    pub fn input(&mut self, slot: u32) -> NodeId {
        self.intern(Node::Input(slot))
    }

    /// The value of a constant node.
    pub fn as_const(&self, id: NodeId) -> Option<f64> {
        match self.nodes[id as usize] {
            Node::Const(bits) => Some(f64::from_bits(bits)),
            _ => None,
        }
    }

    pub fn neg(&mut self, a: NodeId) -> NodeId {
        if let Some(x) = self.as_const(a) {
            return self.constant(-x);
        }
        if let Node::Neg(inner) = self.node(a) {
            return inner;
        }
        self.intern(Node::Neg(a))
    }

    pub fn add(&mut self, a: NodeId, b: NodeId) -> NodeId {
        match (self.as_const(a), self.as_const(b)) {
            (Some(x), Some(y)) => self.constant(x + y),
            (Some(0.0), _) => b,
            (_, Some(0.0)) => a,
            _ => {
                let (a, b) = (a.min(b), a.max(b));
                self.intern(Node::Add(a, b))
            }
        }
    }

    pub fn sub(&mut self, a: NodeId, b: NodeId) -> NodeId {
        match (self.as_const(a), self.as_const(b)) {
            (Some(x), Some(y)) => self.constant(x - y),
            (_, Some(0.0)) => a,
            (Some(0.0), _) => self.neg(b),
            _ if a == b => self.constant(0.0),
            _ => self.intern(Node::Sub(a, b)),
        }
    }

    pub fn mul(&mut self, a: NodeId, b: NodeId) -> NodeId {
        match (self.as_const(a), self.as_const(b)) {
            (Some(x), Some(y)) => self.constant(x * y),
            (Some(x), _) | (_, Some(x)) if x == 0.0 => self.constant(0.0),
            (Some(1.0), _) => b,
            (_, Some(1.0)) => a,
            (Some(-1.0), _) => self.neg(b),
            (_, Some(-1.0)) => self.neg(a),
            _ => {
                let (a, b) = (a.min(b), a.max(b));
                self.intern(Node::Mul(a, b))
            }
        }
    }

    /// `a / b`, with divisions the processor need not do turned into multiplications (a division costs up to
    /// 16 multiplications' time on a vector unit, and rate functions are full of them): `a / c` for a constant
    /// `c` becomes `a · (1/c)`, and `a / (c / d)` becomes `(a · d) / c`, so `x / (1 / y)` (a time constant's
    /// reciprocal, as `(inf - s) / tau` with `tau = 1 / (α + β)` writes it) is `x · y`. Each rewrite changes the
    /// result by at most a rounding of the reciprocal (an ulp or two), and every backend runs the rewritten graph.
    pub fn div(&mut self, a: NodeId, b: NodeId) -> NodeId {
        match (self.as_const(a), self.as_const(b)) {
            (Some(x), Some(y)) => self.constant(x / y),
            (Some(0.0), _) => self.constant(0.0),
            (_, Some(1.0)) => a,
            (_, Some(y)) if (1.0 / y).is_normal() && y.is_normal() => {
                let reciprocal = self.constant(1.0 / y);
                self.mul(a, reciprocal)
            }
            _ => match self.node(b) {
                Node::Div(c, d) if self.as_const(c).is_some_and(|c| (1.0 / c).is_normal() && c.is_normal()) => {
                    let product = self.mul(a, d);
                    self.div(product, c)
                }
                _ => self.intern(Node::Div(a, b)),
            },
        }
    }

    pub fn pow(&mut self, a: NodeId, b: NodeId) -> NodeId {
        match (self.as_const(a), self.as_const(b)) {
            (Some(x), Some(y)) => self.constant(x.powf(y)),
            (_, Some(1.0)) => a,
            (_, Some(0.0)) => self.constant(1.0),
            _ => self.intern(Node::Pow(a, b)),
        }
    }

    pub fn call1(&mut self, f: Func, a: NodeId) -> NodeId {
        match self.as_const(a) {
            Some(x) => self.constant(f.apply1(x)),
            None => self.intern(Node::Call1(f, a)),
        }
    }

    pub fn call2(&mut self, f: Func, a: NodeId, b: NodeId) -> NodeId {
        match (self.as_const(a), self.as_const(b)) {
            (Some(x), Some(y)) => self.constant(f.apply2(x, y)),
            // min(x, x) = max(x, x) = x; atan2(x, x) is not x.
            _ if a == b && matches!(f, Func::Min | Func::Max) => a,
            _ => self.intern(Node::Call2(f, a, b)),
        }
    }

    pub fn lt(&mut self, a: NodeId, b: NodeId) -> NodeId {
        match (self.as_const(a), self.as_const(b)) {
            (Some(x), Some(y)) => self.constant(f64::from(x < y)),
            _ => self.intern(Node::Lt(a, b)),
        }
    }

    pub fn le(&mut self, a: NodeId, b: NodeId) -> NodeId {
        match (self.as_const(a), self.as_const(b)) {
            (Some(x), Some(y)) => self.constant(f64::from(x <= y)),
            _ => self.intern(Node::Le(a, b)),
        }
    }

    pub fn eq(&mut self, a: NodeId, b: NodeId) -> NodeId {
        match (self.as_const(a), self.as_const(b)) {
            (Some(x), Some(y)) => self.constant(f64::from(x == y)),
            _ => self.intern(Node::Eq(a, b)),
        }
    }

    pub fn and(&mut self, a: NodeId, b: NodeId) -> NodeId {
        match (self.as_const(a), self.as_const(b)) {
            (Some(x), Some(y)) => self.constant(f64::from(x != 0.0 && y != 0.0)),
            _ => self.intern(Node::And(a, b)),
        }
    }

    pub fn or(&mut self, a: NodeId, b: NodeId) -> NodeId {
        match (self.as_const(a), self.as_const(b)) {
            (Some(x), Some(y)) => self.constant(f64::from(x != 0.0 || y != 0.0)),
            _ => self.intern(Node::Or(a, b)),
        }
    }

    pub fn not(&mut self, a: NodeId) -> NodeId {
        match self.as_const(a) {
            Some(x) => self.constant(f64::from(x == 0.0)),
            None => self.intern(Node::Not(a)),
        }
    }

    pub fn select(&mut self, c: NodeId, a: NodeId, b: NodeId) -> NodeId {
        if a == b {
            return a;
        }
        match self.as_const(c) {
            Some(x) if x != 0.0 => a,
            Some(_) => b,
            None => self.intern(Node::Select(c, a, b)),
        }
    }

    /// The node `id` rebuilt with input `slot` replaced by the node `by` (shared subexpressions rebuilt once;
    /// iterative, so long chains do not exhaust the stack).
    pub fn substitute(&mut self, id: NodeId, slot: u32, by: NodeId) -> NodeId {
        let mut done: HashMap<NodeId, NodeId> = HashMap::new();
        let mut stack = vec![(id, false)];
        while let Some((n, children_done)) = stack.pop() {
            if done.contains_key(&n) {
                continue;
            }
            let node = self.nodes[n as usize];
            if !children_done {
                stack.push((n, true));
                stack.extend(node.children().into_iter().flatten().map(|c| (c, false)));
                continue;
            }
            let new = |c: NodeId| done[&c];
            let rebuilt = match node {
                Node::Const(_) => n,
                Node::Input(s) if s == slot => by,
                Node::Input(_) => n,
                Node::Neg(a) => self.neg(new(a)),
                Node::Add(a, b) => self.add(new(a), new(b)),
                Node::Sub(a, b) => self.sub(new(a), new(b)),
                Node::Mul(a, b) => self.mul(new(a), new(b)),
                Node::Div(a, b) => self.div(new(a), new(b)),
                Node::Pow(a, b) => self.pow(new(a), new(b)),
                Node::Call1(f, a) => self.call1(f, new(a)),
                Node::Call2(f, a, b) => self.call2(f, new(a), new(b)),
                Node::Lt(a, b) => self.lt(new(a), new(b)),
                Node::Le(a, b) => self.le(new(a), new(b)),
                Node::Eq(a, b) => self.eq(new(a), new(b)),
                Node::And(a, b) => self.and(new(a), new(b)),
                Node::Or(a, b) => self.or(new(a), new(b)),
                Node::Not(a) => self.not(new(a)),
                Node::Select(c, a, b) => self.select(new(c), new(a), new(b)),
            };
            done.insert(n, rebuilt);
        }
        done[&id]
    }

    /// Whether a node's value depends on an input slot.
    pub fn depends_on(&self, id: NodeId, slot: u32) -> bool {
        let mut seen = vec![false; self.nodes.len()];
        let mut stack = vec![id];
        while let Some(n) = stack.pop() {
            if std::mem::replace(&mut seen[n as usize], true) {
                continue;
            }
            match self.nodes[n as usize] {
                Node::Input(s) if s == slot => return true,
                node => stack.extend(node.children().into_iter().flatten()),
            }
        }
        false
    }

    /// Evaluates one node for one set of inputs (reference evaluator, used by tests and constant checks).
    pub fn evaluate(&self, id: NodeId, inputs: &[f64]) -> f64 {
        let mut memo: HashMap<NodeId, f64> = HashMap::new();
        self.eval_memo(id, inputs, &mut memo)
    }

    fn eval_memo(&self, id: NodeId, inputs: &[f64], memo: &mut HashMap<NodeId, f64>) -> f64 {
        if let Some(&v) = memo.get(&id) {
            return v;
        }
        let mut e = |n: NodeId| self.eval_memo(n, inputs, memo);
        let v = match self.nodes[id as usize] {
            Node::Const(bits) => f64::from_bits(bits),
            Node::Input(s) => inputs[s as usize],
            Node::Neg(a) => -e(a),
            Node::Add(a, b) => e(a) + e(b),
            Node::Sub(a, b) => e(a) - e(b),
            Node::Mul(a, b) => e(a) * e(b),
            Node::Div(a, b) => e(a) / e(b),
            Node::Pow(a, b) => e(a).powf(e(b)),
            Node::Call1(f, a) => f.apply1(e(a)),
            Node::Call2(f, a, b) => {
                let x = e(a);
                f.apply2(x, e(b))
            }
            Node::Lt(a, b) => f64::from(e(a) < e(b)),
            Node::Le(a, b) => f64::from(e(a) <= e(b)),
            Node::Eq(a, b) => f64::from(e(a) == e(b)),
            Node::And(a, b) => f64::from(e(a) != 0.0 && e(b) != 0.0),
            Node::Or(a, b) => f64::from(e(a) != 0.0 || e(b) != 0.0),
            Node::Not(a) => f64::from(e(a) == 0.0),
            Node::Select(c, a, b) => {
                if e(c) != 0.0 {
                    e(a)
                } else {
                    e(b)
                }
            }
        };
        memo.insert(id, v);
        v
    }
}
