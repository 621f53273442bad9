/* model_cli: run the exported model on .npy inputs and write .npy outputs.
 *
 *   model_cli [--bench N] WEIGHTS IN0.npy ... OUT0.npy ...
 *
 * One input file per model input and one output path per model output, in the order of
 * model.h. --bench N runs the model N more times and prints the latency. Exit status 0 on
 * success; otherwise a message on stderr and status 1 (usage), 2 (model) or 3 (files). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "model.h"

static const char *descr_of(int dtype) {
    switch (dtype) {
    case MODEL_FLOAT32: return "<f4";
    case MODEL_FLOAT64: return "<f8";
    case MODEL_INT64: return "<i8";
    case MODEL_INT32: return "<i4";
    case MODEL_INT16: return "<i2";
    case MODEL_INT8: return "|i1";
    case MODEL_UINT8: return "|u1";
    case MODEL_BOOL: return "|b1";
    default: return "?";
    }
}

static void shape_text(const model_tensor_info *t, char *buf, size_t n) {
    size_t used = (size_t)snprintf(buf, n, "(");
    for (int d = 0; d < t->ndim && used < n; d++)
        used += (size_t)snprintf(buf + used, n - used, d ? ", %lld" : "%lld",
                                 (long long)t->shape[d]);
    if (used < n) snprintf(buf + used, n - used, t->ndim == 1 ? ",)" : ")");
}

/* Reads `path` into a fresh buffer of exactly t->nbytes, checking the .npy header. */
static void *read_npy(const char *path, const model_tensor_info *t) {
    FILE *f = fopen(path, "rb");
    if (f == NULL) { fprintf(stderr, "model_cli: cannot open %s\n", path); return NULL; }
    unsigned char magic[10];
    char header[4096];
    void *data = NULL;
    if (fread(magic, 1, 10, f) != 10 || memcmp(magic, "\x93NUMPY", 6) != 0) {
        fprintf(stderr, "model_cli: %s is not a .npy file\n", path);
        goto done;
    }
    size_t hlen = (size_t)magic[8] | (size_t)magic[9] << 8;
    if (magic[6] >= 2) {   /* versions 2 and 3: a 4-byte header length */
        unsigned char more[2];
        if (fread(more, 1, 2, f) != 2) goto truncated;
        hlen |= (size_t)more[0] << 16 | (size_t)more[1] << 24;
    }
    if (hlen >= sizeof header) {
        fprintf(stderr, "model_cli: %s: .npy header of %zu bytes is too long\n", path, hlen);
        goto done;
    }
    if (fread(header, 1, hlen, f) != hlen) goto truncated;
    header[hlen] = '\0';
    char want_shape[256], descr[64];
    shape_text(t, want_shape, sizeof want_shape);
    snprintf(descr, sizeof descr, "'descr': '%s'", descr_of(t->dtype));
    const char *shape = strstr(header, "'shape': ");
    if (strstr(header, descr) == NULL || strstr(header, "'fortran_order': False") == NULL
        || shape == NULL || strncmp(shape + 9, want_shape, strlen(want_shape)) != 0) {
        fprintf(stderr, "model_cli: %s: expected a C-ordered %s array of shape %s for input "
                "`%s`, the file says: %s\n", path, descr_of(t->dtype), want_shape, t->name,
                header);
        goto done;
    }
    data = malloc(t->nbytes > 0 ? (size_t)t->nbytes : 1);
    if (data == NULL) { fprintf(stderr, "model_cli: out of memory\n"); goto done; }
    if (fread(data, 1, (size_t)t->nbytes, f) != (size_t)t->nbytes || fgetc(f) != EOF) {
        free(data);
        data = NULL;
        goto truncated;
    }
    goto done;
truncated:
    fprintf(stderr, "model_cli: %s: size does not match its header (truncated?)\n", path);
done:
    fclose(f);
    return data;
}

static int write_npy(const char *path, const model_tensor_info *t, const void *data) {
    char shape[256], header[512];
    shape_text(t, shape, sizeof shape);
    int n = snprintf(header, sizeof header, "{'descr': '%s', 'fortran_order': False, "
                     "'shape': %s, }", descr_of(t->dtype), shape);
    int total = (10 + n + 1 + 63) / 64 * 64;   /* magic + header + '\n', 64-aligned */
    memset(header + n, ' ', (size_t)(total - 10 - n - 1));
    header[total - 10 - 1] = '\n';
    unsigned char magic[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0,
                               (unsigned char)((total - 10) & 0xff),
                               (unsigned char)((total - 10) >> 8)};
    FILE *f = fopen(path, "wb");
    if (f == NULL) { fprintf(stderr, "model_cli: cannot write %s\n", path); return 3; }
    int ok = fwrite(magic, 1, 10, f) == 10
             && fwrite(header, 1, (size_t)(total - 10), f) == (size_t)(total - 10)
             && fwrite(data, 1, (size_t)t->nbytes, f) == (size_t)t->nbytes;
    ok = (fclose(f) == 0) && ok;
    if (!ok) { fprintf(stderr, "model_cli: error writing %s\n", path); return 3; }
    return 0;
}

static double now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int compare_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    long bench = 0;
    int first = 1;
    if (argc > 2 && strcmp(argv[1], "--bench") == 0) {
        char *end;
        bench = strtol(argv[2], &end, 10);
        if (*end != '\0' || bench < 1) {
            fprintf(stderr, "model_cli: --bench needs a positive count, got %s\n", argv[2]);
            return 1;
        }
        first = 3;
    }
    if (argc - first != 1 + MODEL_NUM_INPUTS + MODEL_NUM_OUTPUTS) {
        fprintf(stderr, "usage: %s [--bench N] WEIGHTS", argv[0]);
        for (int k = 0; k < MODEL_NUM_INPUTS; k++) fprintf(stderr, " %s.npy", model_inputs[k].name);
        for (int k = 0; k < MODEL_NUM_OUTPUTS; k++) fprintf(stderr, " OUT%d.npy", k);
        fprintf(stderr, "\n");
        return 1;
    }
    int rc = model_load(argv[first]);
    if (rc != MODEL_OK) {
        fprintf(stderr, "model_cli: %s\n", model_last_error());
        return 2;
    }
    void *in[MODEL_NUM_INPUTS > 0 ? MODEL_NUM_INPUTS : 1] = {0};
    void *out[MODEL_NUM_OUTPUTS] = {0};
    int status = 0;
    model_ctx *ctx = model_ctx_new();
    if (ctx == NULL) { fprintf(stderr, "model_cli: out of memory\n"); status = 2; goto end; }
    for (int k = 0; k < MODEL_NUM_INPUTS; k++) {
        in[k] = read_npy(argv[first + 1 + k], &model_inputs[k]);
        if (in[k] == NULL) { status = 3; goto end; }
    }
    for (int k = 0; k < MODEL_NUM_OUTPUTS; k++) {
        out[k] = malloc(model_outputs[k].nbytes > 0 ? (size_t)model_outputs[k].nbytes : 1);
        if (out[k] == NULL) { fprintf(stderr, "model_cli: out of memory\n"); status = 2; goto end; }
    }
    rc = model_run_ctx(ctx, (const void *const *)in, out);
    if (rc != MODEL_OK) { fprintf(stderr, "model_cli: %s\n", model_last_error()); status = 2; goto end; }
    if (bench > 0) {
        double *t = malloc((size_t)bench * sizeof *t);
        if (t == NULL) { fprintf(stderr, "model_cli: out of memory\n"); status = 2; goto end; }
        double total = 0;
        for (long r = 0; r < bench; r++) {
            double t0 = now_us();
            model_run_ctx(ctx, (const void *const *)in, out);
            t[r] = now_us() - t0;
            total += t[r];
        }
        qsort(t, (size_t)bench, sizeof *t, compare_double);
        printf("latency_us median %.2f mean %.2f min %.2f runs %ld\n", t[bench / 2],
               total / bench, t[0], bench);
        free(t);
    }
    for (int k = 0; k < MODEL_NUM_OUTPUTS && status == 0; k++)
        status = write_npy(argv[first + 1 + MODEL_NUM_INPUTS + k], &model_outputs[k], out[k]);
end:
    for (int k = 0; k < MODEL_NUM_INPUTS; k++) free(in[k]);
    for (int k = 0; k < MODEL_NUM_OUTPUTS; k++) free(out[k]);
    model_ctx_free(ctx);
    model_free();
    return status;
}
