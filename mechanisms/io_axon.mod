TITLE io_axon: inferior olive neuron, axonal channels

COMMENT
Axonal membrane of the three-region inferior olive (IO) cell model used by
rall's tuning experiment (Schweighofer / de Gruijl family); see
shared/models/inferior-olive.md. Three currents, each written as a
nonspecific current with a fixed reversal potential:
  leak  i_leak = g_la * (v - E_leak)
  Na    i_na   = g_Na_a * m_inf^3 * h * (v - E_Na)  m instantaneous
  K     i_k    = g_K_a * x^4 * (v - E_K)
The axonal sodium inactivation h is faster and shifted by +10 mV relative
to the soma's; m_inf and the x kinetics are the somatic ones. The defaults
of the conductances are the experiment's target values. Gates start at
steady state for the initial voltage and are integrated with cnexp.
ENDCOMMENT

UNITS {
    (mA) = (milliamp)
    (mV) = (millivolt)
    (S)  = (siemens)
}

NEURON {
    SUFFIX io_axon
    NONSPECIFIC_CURRENT i_leak, i_na, i_k
    RANGE g_la, g_Na_a, g_K_a
    RANGE E_Na, E_K, E_leak
    THREADSAFE
}

PARAMETER {
    g_la = 1.3e-6 (S/cm2) <0,1e9>
    g_Na_a = 0.025 (S/cm2) <0,1e9>
    g_K_a = 0.025 (S/cm2) <0,1e9>
    E_Na = 55 (mV)
    E_K = -75 (mV)
    E_leak = 10 (mV)
}

STATE {
    h
    x
}

ASSIGNED {
    v (mV)
    i_leak (mA/cm2)
    i_na (mA/cm2)
    i_k (mA/cm2)
    m_inf
    h_inf
    tau_h (ms)
    alpha_x (/ms)
    beta_x (/ms)
}

INITIAL {
    rates(v)
    h = h_inf
    x = alpha_x / (alpha_x + beta_x)
}

BREAKPOINT {
    SOLVE states METHOD cnexp
    m_inf = 1 / (1 + exp(-(v + 30) / 5.5))
    i_leak = g_la * (v - E_leak)
    i_na = g_Na_a * m_inf * m_inf * m_inf * h * (v - E_Na)
    i_k = g_K_a * x * x * x * x * (v - E_K)
}

DERIVATIVE states {
    rates(v)
    h' = (h_inf - h) / tau_h
    x' = alpha_x * (1 - x) - beta_x * x
}

PROCEDURE rates(v (mV)) {
    : axonal sodium inactivation
    h_inf = 1 / (1 + exp((v + 60) / 5.8))
    tau_h = 1.5 * exp(-(v + 40) / 33)
    : potassium activation (as in the soma)
    alpha_x = 1.3 * xoverexpm1(-(v + 25) / 10)
    beta_x = 1.69 * exp(-(v + 35) / 80)
}

FUNCTION xoverexpm1(x) {
    : x/(exp(x)-1), replaced by its series 1 - x/2 near x = 0
    IF (fabs(x) < 1e-6) {
        xoverexpm1 = 1 - x / 2
    } ELSE {
        xoverexpm1 = x / (exp(x) - 1)
    }
}
