TITLE Exp2Syn: synapse with a difference-of-exponentials conductance

COMMENT
Point-process synapse for rall. The conductance is g = B - A (uS), where A
decays with the rise time constant tau1 and B with the decay time constant
tau2 (ms). Each event adds weight*factor to both A and B; factor is chosen
in INITIAL so that a single event of weight 1 gives a peak conductance of
exactly 1 uS. The synaptic current is i = g*(v - e) in nA.
tau1 is kept strictly below tau2 (a ratio of at most 0.9999).
ENDCOMMENT

UNITS {
    (nA) = (nanoamp)
    (mV) = (millivolt)
    (uS) = (microsiemens)
}

NEURON {
    POINT_PROCESS Exp2Syn
    NONSPECIFIC_CURRENT i
    RANGE tau1, tau2, e, i, g
    THREADSAFE
}

PARAMETER {
    tau1 = 0.1 (ms) <1e-9,1e9>
    tau2 = 10 (ms) <1e-9,1e9>
    e = 0 (mV)
}

STATE {
    A (uS)
    B (uS)
}

ASSIGNED {
    v (mV)
    i (nA)
    g (uS)
    factor
}

INITIAL {
    LOCAL tpeak
    : keep the two time constants apart so the normalisation stays finite
    IF (tau1 / tau2 > 0.9999) {
        tau1 = 0.9999 * tau2
    }
    IF (tau1 / tau2 < 1e-9) {
        tau1 = tau2 * 1e-9
    }
    A = 0
    B = 0
    : time of the peak of exp(-t/tau2) - exp(-t/tau1)
    tpeak = (tau1 * tau2) / (tau2 - tau1) * log(tau2 / tau1)
    factor = 1 / (exp(-tpeak / tau2) - exp(-tpeak / tau1))
}

BREAKPOINT {
    SOLVE state METHOD cnexp
    g = B - A
    i = g * (v - e)
}

DERIVATIVE state {
    A' = -A / tau1
    B' = -B / tau2
}

NET_RECEIVE(weight (uS)) {
    A = A + weight * factor
    B = B + weight * factor
}
