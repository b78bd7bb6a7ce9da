/*
 * LZ4 and zstd over single pages.  zstd needs a context per thread; each
 * thread makes its own on first use and frees it when it exits.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

#include <lz4.h>
#include <zstd.h>

#include "compress.h"

#define ZSTD_LEVEL 1

struct zstd_ctx {
    ZSTD_CCtx *c;
    ZSTD_DCtx *d;
};

static pthread_key_t zstd_key;
static pthread_once_t zstd_once = PTHREAD_ONCE_INIT;

static void zstd_ctx_free(void *p)
{
    struct zstd_ctx *ctx = p;

    ZSTD_freeCCtx(ctx->c);
    ZSTD_freeDCtx(ctx->d);
    free(ctx);
}

static void zstd_key_init(void)
{
    if (pthread_key_create(&zstd_key, zstd_ctx_free))
        abort();
}

static struct zstd_ctx *zstd_ctx(void)
{
    struct zstd_ctx *ctx;

    pthread_once(&zstd_once, zstd_key_init);
    ctx = pthread_getspecific(zstd_key);
    if (ctx)
        return ctx;
    ctx = calloc(1, sizeof(*ctx));
    if (!ctx)
        return NULL;
    ctx->c = ZSTD_createCCtx();
    ctx->d = ZSTD_createDCtx();
    if (!ctx->c || !ctx->d || pthread_setspecific(zstd_key, ctx)) {
        zstd_ctx_free(ctx);
        return NULL;
    }
    return ctx;
}

size_t tmem_compress(enum tmem_codec codec, const void *page, void *out)
{
    size_t len = 0;

    if (codec == TMEM_CODEC_LZ4) {
        int n = LZ4_compress_default(page, out, PAGE_SIZE, TMEM_COMPRESS_BUF);

        len = n > 0 ? (size_t)n : 0;
    } else if (codec == TMEM_CODEC_ZSTD) {
        struct zstd_ctx *ctx = zstd_ctx();
        size_t n = ctx ? ZSTD_compressCCtx(ctx->c, out, TMEM_COMPRESS_BUF, page, PAGE_SIZE,
                                           ZSTD_LEVEL)
                       : 0;

        len = ctx && !ZSTD_isError(n) ? n : 0;
    }
    return len <= TMEM_COMPRESSED_MAX ? len : 0;
}

int tmem_decompress(enum tmem_codec codec, const void *in, size_t len, void *page)
{
    if (codec == TMEM_CODEC_LZ4) {
        int n = LZ4_decompress_safe(in, page, (int)len, PAGE_SIZE);

        return n == (int)PAGE_SIZE ? 0 : -EIO;
    }
    if (codec == TMEM_CODEC_ZSTD) {
        struct zstd_ctx *ctx = zstd_ctx();
        size_t n = ctx ? ZSTD_decompressDCtx(ctx->d, page, PAGE_SIZE, in, len) : 0;

        return ctx && !ZSTD_isError(n) && n == PAGE_SIZE ? 0 : -EIO;
    }
    return -EIO;
}
