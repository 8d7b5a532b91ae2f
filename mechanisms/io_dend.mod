TITLE io_dend: inferior olive neuron, dendritic channels and calcium

COMMENT
Dendritic membrane of the three-region inferior olive (IO) cell model used
by rall's tuning experiment (Schweighofer / de Gruijl family); see
shared/models/inferior-olive.md. Three membrane currents, each written as a
nonspecific current with a fixed reversal potential:
  leak  i_leak = g_ld * (v - E_leak)
  KCa   i_kca  = g_K_Ca * s * (v - E_K)     calcium-activated potassium
  HCN   i_h    = g_h * q * (v - E_h)
The high-threshold calcium flux I_CaH = g_CaH * r^2 * (v - E_Ca) (mA/cm2)
is NOT a membrane current: it only drives the calcium state
  ca' = -30 * I_CaH - 0.075 * ca,   ca(0) = 3.715   (model units)
which activates KCa through alpha_s = min(0.00002 * ca, 0.01).
Within one step the calcium equation uses I_CaH computed from r at the
start of the step (like every gate, each equation sees the states of the
start of the step). The defaults of the conductances are the experiment's
target values. Gates start at steady state for the initial voltage (s from
alpha_s/(alpha_s + 0.015) at the initial calcium); everything is integrated
with the exponential (cnexp) method, each equation being linear in its own
state.
ENDCOMMENT

UNITS {
    (mA) = (milliamp)
    (mV) = (millivolt)
    (S)  = (siemens)
}

NEURON {
    SUFFIX io_dend
    NONSPECIFIC_CURRENT i_leak, i_kca, i_h
    RANGE g_ld, g_K_Ca, g_h, g_CaH
    RANGE E_K, E_Ca, E_leak, E_h
    RANGE I_CaH
    THREADSAFE
}

PARAMETER {
    g_ld = 1.3e-6 (S/cm2) <0,1e9>
    g_K_Ca = 0.025 (S/cm2) <0,1e9>
    g_h = 0.0025 (S/cm2) <0,1e9>
    g_CaH = 0.016 (S/cm2) <0,1e9>
    E_K = -75 (mV)
    E_Ca = 120 (mV)
    E_leak = 10 (mV)
    E_h = -43 (mV)
}

STATE {
    r
    s
    q
    ca
}

ASSIGNED {
    v (mV)
    i_leak (mA/cm2)
    i_kca (mA/cm2)
    i_h (mA/cm2)
    I_CaH (mA/cm2)
    alpha_r (/ms)
    beta_r (/ms)
    r_inf
    alpha_s (/ms)
    q_inf
    q_rate (/ms)
}

INITIAL {
    ca = 3.715
    rates(v, ca)
    r = r_inf
    s = alpha_s / (alpha_s + 0.015)
    q = q_inf
    I_CaH = g_CaH * r * r * (v - E_Ca)
}

BREAKPOINT {
    SOLVE states METHOD cnexp
    i_leak = g_ld * (v - E_leak)
    i_kca = g_K_Ca * s * (v - E_K)
    i_h = g_h * q * (v - E_h)
}

DERIVATIVE states {
    rates(v, ca)
    : calcium influx from the high-threshold channel, at the step's start r
    I_CaH = g_CaH * r * r * (v - E_Ca)
    r' = 0.2 * (alpha_r + beta_r) * (r_inf - r)
    s' = alpha_s * (1 - s) - 0.015 * s
    q' = (q_inf - q) * q_rate
    ca' = -30 * I_CaH - 0.075 * ca
}

PROCEDURE rates(v (mV), c) {
    : high-threshold calcium activation
    alpha_r = 1.7 / (1 + exp(-(v - 5) / 13.9))
    beta_r = 0.1 * xoverexpm1((v + 8.5) / 5)
    r_inf = alpha_r / (alpha_r + beta_r)
    : calcium-dependent KCa activation rate
    alpha_s = ca_rate(c)
    : HCN activation
    q_inf = 1 / (1 + exp((v + 80) / 4))
    q_rate = exp(-0.086 * v - 14.6) + exp(0.070 * v - 1.87)
}

FUNCTION ca_rate(c) {
    : alpha_s = min(0.00002 * ca, 0.01)
    IF (0.00002 * c < 0.01) {
        ca_rate = 0.00002 * c
    } ELSE {
        ca_rate = 0.01
    }
}

FUNCTION xoverexpm1(x) {
    : x/(exp(x)-1), replaced by its series 1 - x/2 near x = 0
    IF (fabs(x) < 1e-6) {
        xoverexpm1 = 1 - x / 2
    } ELSE {
        xoverexpm1 = x / (exp(x) - 1)
    }
}
