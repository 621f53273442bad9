/* Loading and checking the weights file (format: jit/export/weights.py).
 *
 * Needs, defined before it in model.c: EJ_NUM_WEIGHTS, ej_weight_spec[] (what the model
 * was compiled for) and ej_fail(). Every field is checked against the file's real size
 * and against ej_weight_spec before a tensor pointer is handed out, so a truncated,
 * corrupt or foreign file is refused with a message and never read out of bounds. */

#define EJ_HEADER_SIZE 32u
#define EJ_ENTRY_SIZE 88u
#define EJ_ALIGN 64u

static unsigned char *ej_blob = NULL;
static const void *ej_w[EJ_NUM_WEIGHTS > 0 ? EJ_NUM_WEIGHTS : 1];

static uint32_t ej_u32(const unsigned char *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t ej_u64(const unsigned char *p) {
    return (uint64_t)ej_u32(p) | (uint64_t)ej_u32(p + 4) << 32;
}

/* CRC-32 with zlib's (reflected) polynomial. The table is built per call, on the stack:
 * 2 KiB of work, and no static state shared between threads. */
static uint32_t ej_crc32(const unsigned char *p, uint64_t n) {
    uint32_t table[256];
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = (c & 1u) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        table[i] = c;
    }
    uint32_t crc = 0xFFFFFFFFu;
    for (uint64_t i = 0; i < n; i++) crc = table[(crc ^ p[i]) & 0xFFu] ^ (crc >> 8);
    return crc ^ 0xFFFFFFFFu;
}

static int ej_check_blob(const char *path, const unsigned char *b, uint64_t size) {
    if (size < EJ_HEADER_SIZE + 8)
        return ej_fail(MODEL_ERR_FORMAT, "model_load: %s: %llu bytes is too short for a "
                       "weights file (truncated?)", path, (unsigned long long)size);
    if (memcmp(b, "EJWEIGHT", 8) != 0)
        return ej_fail(MODEL_ERR_FORMAT, "model_load: %s: not an eager-jit weights file "
                       "(bad magic number)", path);
    if (ej_u32(b + 8) != 1)
        return ej_fail(MODEL_ERR_FORMAT, "model_load: %s: weights format version %u, this "
                       "model reads version 1", path, ej_u32(b + 8));
    uint64_t stored = ej_u64(b + size - 8);
    uint32_t actual = ej_crc32(b, size - 8);
    if (stored != actual)
        return ej_fail(MODEL_ERR_FORMAT, "model_load: %s: checksum mismatch (file has "
                       "%08llx, contents give %08x): the file is corrupt or truncated", path,
                       (unsigned long long)stored, actual);
    uint32_t count = ej_u32(b + 12);
    uint64_t data_offset = ej_u64(b + 16), data_size = ej_u64(b + 24);
    if (count != EJ_NUM_WEIGHTS)
        return ej_fail(MODEL_ERR_FORMAT, "model_load: %s holds %u tensors, this model needs "
                       "%d (weights of another model?)", path, count, EJ_NUM_WEIGHTS);
    uint64_t table_end = EJ_HEADER_SIZE + (uint64_t)count * EJ_ENTRY_SIZE;
    if (data_offset < table_end || data_offset % EJ_ALIGN || data_offset > size - 8
        || data_size > size - 8 - data_offset)
        return ej_fail(MODEL_ERR_FORMAT, "model_load: %s: data region [%llu, +%llu) does "
                       "not fit the file of %llu bytes", path, (unsigned long long)data_offset,
                       (unsigned long long)data_size, (unsigned long long)size);
    for (uint32_t i = 0; i < count; i++) {
        const unsigned char *e = b + EJ_HEADER_SIZE + (uint64_t)i * EJ_ENTRY_SIZE;
        const ej_spec *want = &ej_weight_spec[i];
        uint32_t dtype = ej_u32(e), ndim = ej_u32(e + 4);
        uint64_t offset = ej_u64(e + 8), nbytes = ej_u64(e + 16);
        if (dtype != (uint32_t)want->dtype || ndim != (uint32_t)want->ndim)
            return ej_fail(MODEL_ERR_FORMAT, "model_load: %s: tensor %u (%s) has dtype code "
                           "%u and %u dims, this model needs dtype code %d and %d dims",
                           path, i, want->name, dtype, ndim, want->dtype, want->ndim);
        for (uint32_t d = 0; d < ndim; d++) {
            int64_t dim = (int64_t)ej_u64(e + 24 + 8 * d);
            if (dim != want->shape[d])
                return ej_fail(MODEL_ERR_FORMAT, "model_load: %s: tensor %u (%s) has size "
                               "%lld in dim %u, this model needs %lld", path, i, want->name,
                               (long long)dim, d, (long long)want->shape[d]);
        }
        if (nbytes != (uint64_t)want->nbytes || offset % EJ_ALIGN || offset > data_size
            || nbytes > data_size - offset)
            return ej_fail(MODEL_ERR_FORMAT, "model_load: %s: tensor %u (%s) of %llu bytes "
                           "at offset %llu is outside the data region of %llu bytes", path,
                           i, want->name, (unsigned long long)nbytes,
                           (unsigned long long)offset, (unsigned long long)data_size);
    }
    return MODEL_OK;
}

int model_load(const char *path) {
    if (path == NULL) return ej_fail(MODEL_ERR_ARG, "model_load: path is NULL");
    FILE *f = fopen(path, "rb");
    if (f == NULL) return ej_fail(MODEL_ERR_IO, "model_load: cannot open %s", path);
    long size = -1;
    if (fseek(f, 0, SEEK_END) == 0) size = ftell(f);
    if (size < 0 || fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        return ej_fail(MODEL_ERR_IO, "model_load: cannot read the size of %s", path);
    }
    /* 64-byte aligned so every tensor (at a 64-aligned offset) is aligned for its type */
    unsigned char *blob = aligned_alloc(EJ_ALIGN, ((uint64_t)size + EJ_ALIGN) / EJ_ALIGN * EJ_ALIGN);
    if (blob == NULL) {
        fclose(f);
        return ej_fail(MODEL_ERR_NOMEM, "model_load: no memory for %ld bytes of weights", size);
    }
    size_t got = fread(blob, 1, (size_t)size, f);
    fclose(f);
    if (got != (size_t)size) {
        free(blob);
        return ej_fail(MODEL_ERR_IO, "model_load: read %zu of %ld bytes of %s", got, size, path);
    }
    int rc = ej_check_blob(path, blob, (uint64_t)size);
    if (rc != MODEL_OK) {
        free(blob);
        return rc;
    }
    model_free();
    uint64_t data_offset = ej_u64(blob + 16);
    for (uint32_t i = 0; i < EJ_NUM_WEIGHTS; i++)
        ej_w[i] = blob + data_offset + ej_u64(blob + EJ_HEADER_SIZE + (uint64_t)i * EJ_ENTRY_SIZE + 8);
    ej_blob = blob;
    return MODEL_OK;
}

void model_free(void) {
    free(ej_blob);
    ej_blob = NULL;
    for (uint32_t i = 0; i < (EJ_NUM_WEIGHTS > 0 ? EJ_NUM_WEIGHTS : 1); i++) ej_w[i] = NULL;
}
