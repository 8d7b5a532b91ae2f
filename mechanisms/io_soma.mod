TITLE io_soma: inferior olive neuron, somatic channels

COMMENT
Somatic membrane of the three-region inferior olive (IO) cell model used by
rall's tuning experiment (Schweighofer / de Gruijl family); see
shared/models/inferior-olive.md. Five currents, each written as a
nonspecific current with a fixed reversal potential:
  leak  i_leak = g_ls * (v - E_leak)
  CaL   i_cal  = g_CaL * k^3 * l * (v - E_Ca)      low-threshold calcium
  Na    i_na   = g_Na_s * m_inf^3 * h * (v - E_Na)  m instantaneous
  Kdr   i_kdr  = g_Kdr_s * n^4 * (v - E_K)
  K     i_k    = g_K_s * x^4 * (v - E_K)
The defaults of the conductances are the experiment's target values.
All gates start at steady state for the initial voltage and are integrated
with the exponential (cnexp) method.
ENDCOMMENT

UNITS {
    (mA) = (milliamp)
    (mV) = (millivolt)
    (S)  = (siemens)
}

NEURON {
    SUFFIX io_soma
    NONSPECIFIC_CURRENT i_leak, i_cal, i_na, i_kdr, i_k
    RANGE g_ls, g_CaL, g_Na_s, g_Kdr_s, g_K_s
    RANGE E_Na, E_K, E_Ca, E_leak
    THREADSAFE
}

PARAMETER {
    g_ls = 1.3e-6 (S/cm2) <0,1e9>
    g_CaL = 0.0003 (S/cm2) <0,1e9>
    g_Na_s = 0.003 (S/cm2) <0,1e9>
    g_Kdr_s = 0.004 (S/cm2) <0,1e9>
    g_K_s = 0.002 (S/cm2) <0,1e9>
    E_Na = 55 (mV)
    E_K = -75 (mV)
    E_Ca = 120 (mV)
    E_leak = 10 (mV)
}

STATE {
    k
    l
    h
    n
    x
}

ASSIGNED {
    v (mV)
    i_leak (mA/cm2)
    i_cal (mA/cm2)
    i_na (mA/cm2)
    i_kdr (mA/cm2)
    i_k (mA/cm2)
    m_inf
    k_inf
    l_inf
    tau_l (ms)
    h_inf
    tau_h (ms)
    n_inf
    tau_n (ms)
    alpha_x (/ms)
    beta_x (/ms)
}

INITIAL {
    rates(v)
    k = k_inf
    l = l_inf
    h = h_inf
    n = n_inf
    x = alpha_x / (alpha_x + beta_x)
}

BREAKPOINT {
    SOLVE states METHOD cnexp
    m_inf = 1 / (1 + exp(-(v + 30) / 5.5))
    i_leak = g_ls * (v - E_leak)
    i_cal = g_CaL * k * k * k * l * (v - E_Ca)
    i_na = g_Na_s * m_inf * m_inf * m_inf * h * (v - E_Na)
    i_kdr = g_Kdr_s * n * n * n * n * (v - E_K)
    i_k = g_K_s * x * x * x * x * (v - E_K)
}

DERIVATIVE states {
    rates(v)
    k' = k_inf - k
    l' = (l_inf - l) / tau_l
    h' = (h_inf - h) / tau_h
    n' = (n_inf - n) / tau_n
    x' = alpha_x * (1 - x) - beta_x * x
}

PROCEDURE rates(v (mV)) {
    : low-threshold calcium activation (time constant 1 ms) and inactivation
    k_inf = 1 / (1 + exp(-(v + 61) / 4.2))
    l_inf = 1 / (1 + exp((v + 85) / 8.5))
    tau_l = 20 * exp((v + 160) / 30) / (1 + exp((v + 84) / 7.3)) + 35
    : somatic sodium inactivation
    h_inf = 1 / (1 + exp((v + 70) / 5.8))
    tau_h = 3 * exp(-(v + 40) / 33)
    : delayed rectifier activation
    n_inf = 1 / (1 + exp(-(v + 3) / 10))
    tau_n = 5 + 47 * exp((v + 50) / 900)
    : potassium activation
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
