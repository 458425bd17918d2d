/* gilwise._native._capi: the sqrt_log kernel as a CPython C-API extension.
 *
 * Layout follows CPython's Modules/sha2module.c: arguments are taken while the
 * GIL is held, the pure-C loop runs between Py_BEGIN_ALLOW_THREADS and
 * Py_END_ALLOW_THREADS and touches no PyObject*, multi-phase init declares
 * per-interpreter-GIL support and Py_mod_gil for free-threaded builds.
 *
 * Only the limited API of CPython 3.11 is used: the wheel's build defines
 * Py_LIMITED_API=0x030B0000 (native/CMakeLists.txt), so one _capi.abi3.so
 * loads in every GIL build from 3.11 on. A free-threaded build cannot load
 * abi3 modules and gets a version-specific build of this same file.
 *
 * sqrt_log_gil() is the labelled contrast case: the same loop keeping the GIL,
 * so the benchmark can show what a C extension that forgets to release it costs.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "sqrt_log.h"

/* The largest n whose every index converts exactly to a double. */
#define MAX_N (((long long)1) << 53)

/* Reads n from a Python int; returns -1 with an exception set on failure. */
static long long
read_n(PyObject *arg)
{
    if (!PyLong_Check(arg)) {
        /* PyType_GetName, not tp_name: PyTypeObject is opaque in the limited API. */
        PyObject *type_name = PyType_GetName(Py_TYPE(arg));
        if (type_name != NULL) {
            PyErr_Format(PyExc_TypeError, "n must be an int, not %U", type_name);
            Py_DECREF(type_name);
        }
        return -1;
    }
    int overflow = 0;
    long long n = PyLong_AsLongLongAndOverflow(arg, &overflow);
    if (n == -1 && PyErr_Occurred()) {
        return -1;
    }
    if (overflow != 0 || n < 0 || n > MAX_N) {
        PyErr_Format(PyExc_ValueError,
                     "n must be between 0 and 2**53 (got %R): it is the loop "
                     "count of sqrt_log; pass a non-negative int", arg);
        return -1;
    }
    return n;
}

static PyObject *
capi_sqrt_log(PyObject *module, PyObject *arg)
{
    long long n = read_n(arg);
    if (n < 0) {
        return NULL;
    }
    double result;
    Py_BEGIN_ALLOW_THREADS
    result = gilwise_sqrt_log_range(0, (uint64_t)n);
    Py_END_ALLOW_THREADS
    return PyFloat_FromDouble(result);
}

static PyObject *
capi_sqrt_log_gil(PyObject *module, PyObject *arg)
{
    long long n = read_n(arg);
    if (n < 0) {
        return NULL;
    }
    /* Deliberately no Py_BEGIN_ALLOW_THREADS: the contrast case. */
    return PyFloat_FromDouble(gilwise_sqrt_log_range(0, (uint64_t)n));
}

static PyObject *
capi_noop(PyObject *module, PyObject *Py_UNUSED(ignored))
{
    Py_RETURN_NONE;
}

PyDoc_STRVAR(capi_sqrt_log_doc,
"sqrt_log(n, /)\n--\n\n"
"Sum of sqrt(i) * log(i + 1) for i in range(n), computed in C with the GIL released.");

PyDoc_STRVAR(capi_sqrt_log_gil_doc,
"sqrt_log_gil(n, /)\n--\n\n"
"The same loop as sqrt_log, keeping the GIL for the whole call (contrast case).");

PyDoc_STRVAR(capi_noop_doc,
"noop()\n--\n\n"
"Do nothing: measures the cost of calling a C-API function.");

static PyMethodDef capi_methods[] = {
    {"sqrt_log", capi_sqrt_log, METH_O, capi_sqrt_log_doc},
    {"sqrt_log_gil", capi_sqrt_log_gil, METH_O, capi_sqrt_log_gil_doc},
    {"noop", capi_noop, METH_NOARGS, capi_noop_doc},
    {NULL, NULL, 0, NULL}
};

static int
capi_exec(PyObject *module)
{
    return PyModule_AddIntConstant(module, "ABI_VERSION", GILWISE_NATIVE_ABI_VERSION);
}

/* Slot IDs and values are part of the stable ABI (CPython's Include/moduleobject.h):
 * a build for the 3.11 limited API does not see the 3.12 name, yet may hand its
 * value to a 3.12+ interpreter, which knows it. */
#define GILWISE_MOD_MULTIPLE_INTERPRETERS 3
#define GILWISE_MOD_PER_INTERPRETER_GIL_SUPPORTED ((void *)2)
#ifdef Py_mod_multiple_interpreters
_Static_assert(Py_mod_multiple_interpreters == GILWISE_MOD_MULTIPLE_INTERPRETERS,
               "Py_mod_multiple_interpreters changed value");
#endif

static PyModuleDef_Slot capi_slots[] = {
    {Py_mod_exec, capi_exec},
    /* No global state: safe in sub-interpreters that each have their own GIL. */
    {GILWISE_MOD_MULTIPLE_INTERPRETERS, GILWISE_MOD_PER_INTERPRETER_GIL_SUPPORTED},
#ifdef Py_mod_gil
    /* Nothing here relies on the GIL: free-threaded builds keep it disabled. */
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
#endif
    {0, NULL}
};

/* CPython 3.11 refuses a slot ID it does not know ("uses unknown slot ID 3"),
 * and a 3.11 interpreter has a single GIL anyway. */
static PyModuleDef_Slot capi_slots_3_11[] = {
    {Py_mod_exec, capi_exec},
    {0, NULL}
};

#define CAPI_MODULE_DEF(slots) {                                                \
    PyModuleDef_HEAD_INIT,                                                      \
    .m_name = "gilwise._native._capi",                                          \
    .m_doc = "The sqrt_log kernel as a CPython C-API extension (see gilwise._native).", \
    .m_size = 0,                                                                \
    .m_methods = capi_methods,                                                  \
    .m_slots = (slots),                                                         \
}

static struct PyModuleDef capi_module = CAPI_MODULE_DEF(capi_slots);
static struct PyModuleDef capi_module_3_11 = CAPI_MODULE_DEF(capi_slots_3_11);

PyMODINIT_FUNC
PyInit__capi(void)
{
    /* Py_Version is the running interpreter's, not the headers' (stable ABI 3.11+). */
    return PyModuleDef_Init(Py_Version >= 0x030C0000 ? &capi_module : &capi_module_3_11);
}
