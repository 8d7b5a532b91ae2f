TITLE ExpSyn: synapse with a single-exponential conductance

COMMENT
Point-process synapse for rall. Each incoming event steps the conductance
g (uS) up by the event weight; g then decays with time constant tau (ms).
The synaptic current is i = g*(v - e) in nA.
ENDCOMMENT

UNITS {
    (nA) = (nanoamp)
    (mV) = (millivolt)
    (uS) = (microsiemens)
}

NEURON {
    POINT_PROCESS ExpSyn
    NONSPECIFIC_CURRENT i
    RANGE tau, e, i, g
    THREADSAFE
}

PARAMETER {
    tau = 0.1 (ms) <1e-9,1e9>
    e = 0 (mV)
}

STATE {
    g (uS)
}

ASSIGNED {
    v (mV)
    i (nA)
}

INITIAL {
    g = 0
}

BREAKPOINT {
    SOLVE state METHOD cnexp
    i = g * (v - e)
}

DERIVATIVE state {
    g' = -g / tau
}

NET_RECEIVE(weight (uS)) {
    g = g + weight
}
