/*
 * Page compression for tmem: LZ4 by default, zstd (level 1) per client
 * (spec §6.3: zstd stores 1.3-1.7x more for 2.4-3.3x the CPU).  A page
 * that compression does not shrink by a quarter is stored raw (Google's
 * far-memory cut-off, spec §6.2).
 */
#ifndef MEMVISOR_TMEM_COMPRESS_H
#define MEMVISOR_TMEM_COMPRESS_H

#include <stddef.h>

#include "memvisor/base.h"

enum tmem_codec {
    TMEM_CODEC_RAW = 0,
    TMEM_CODEC_LZ4 = 1,
    TMEM_CODEC_ZSTD = 2,
};

/* The most a compressed page is stored as: 3/4 of a page. */
#define TMEM_COMPRESSED_MAX (PAGE_SIZE - PAGE_SIZE / 4)
/* Room the output buffer of tmem_compress needs. */
#define TMEM_COMPRESS_BUF (2 * PAGE_SIZE)

/* Compresses a page with codec into out; returns the length, or 0 when it
 * should be stored raw (no gain of a quarter, or the codec failed). */
size_t tmem_compress(enum tmem_codec codec, const void *page, void *out);
/* Decompresses len bytes into a page.  0, or -EIO if they do not make
 * exactly one page. */
int tmem_decompress(enum tmem_codec codec, const void *in, size_t len, void *page) MV_MUST_CHECK;

#endif
