/*
 * iommu-bench - an arena allocator for a stream's bus_dma maps (arena.h).
 *
 *   ar_chunks -> | chunk hdr | block | block | ... free ... |
 *                  ^ ch_next: the chunk carved before this one
 *
 * Invariants (ar_lock held): ar_cur is the newest chunk, ar_used bytes of
 * it are carved; ar_live counts blocks not yet freed; every chunk but
 * ar_cur is full or abandoned.  Blocks are aligned to ARENA_ALIGN, as
 * malloc's are.  A ring's maps are made and destroyed from one thread, but
 * the scale scenario's rings share a stream: the lock keeps it safe.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "arena.h"

#define ARENA_CHUNK (1u << 20)
#define ARENA_ALIGN 16u

struct arena_chunk {
	struct arena_chunk *ch_next;
	size_t		    ch_size; /* bytes after the header */
	_Alignas(ARENA_ALIGN) unsigned char ch_data[];
};

struct bench_arena {
	struct iommu_allocator ar_alloc; /* ia_ctx: this arena */
	pthread_mutex_t	       ar_lock;
	struct arena_chunk    *ar_chunks;
	struct arena_chunk    *ar_cur;
	size_t		       ar_used;
	size_t		       ar_live;
};

static void *arena_alloc(void *ctx, size_t size);
static void  arena_free(void *ctx, void *ptr, size_t size);

int
bench_arena_create(
    struct bench_arena **out, const struct iommu_allocator **alloc)
{
	struct bench_arena *ar = calloc(1, sizeof(*ar));

	if (ar == NULL)
		return ENOMEM;
	if (pthread_mutex_init(&ar->ar_lock, NULL) != 0) {
		free(ar);
		return ENOMEM;
	}
	ar->ar_alloc.ia_alloc = arena_alloc;
	ar->ar_alloc.ia_free = arena_free;
	ar->ar_alloc.ia_ctx = ar;
	*out = ar;
	*alloc = &ar->ar_alloc;
	return 0;
}

void
bench_arena_destroy(struct bench_arena *ar)
{
	struct arena_chunk *ch, *next;

	if (ar == NULL)
		return;
	for (ch = ar->ar_chunks; ch != NULL; ch = next) {
		next = ch->ch_next;
		free(ch);
	}
	pthread_mutex_destroy(&ar->ar_lock);
	free(ar);
}

/* A chunk of at least size bytes after the current one; false: ENOMEM. */
static bool
arena_grow(struct bench_arena *ar, size_t size)
{
	struct arena_chunk *ch;
	size_t		    want = size > ARENA_CHUNK ? size : ARENA_CHUNK;

	if (want > SIZE_MAX - sizeof(*ch))
		return false;
	if ((ch = malloc(sizeof(*ch) + want)) == NULL)
		return false;
	ch->ch_size = want;
	ch->ch_next = ar->ar_chunks;
	ar->ar_chunks = ar->ar_cur = ch;
	ar->ar_used = 0;
	return true;
}

static void *
arena_alloc(void *ctx, size_t size)
{
	struct bench_arena *ar = ctx;
	void		   *p = NULL;

	if (size == 0 || size > SIZE_MAX - ARENA_ALIGN)
		return NULL;
	size = (size + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
	pthread_mutex_lock(&ar->ar_lock);
	if ((ar->ar_cur != NULL && ar->ar_cur->ch_size - ar->ar_used >= size) ||
	    arena_grow(ar, size)) {
		p = ar->ar_cur->ch_data + ar->ar_used;
		ar->ar_used += size;
		ar->ar_live++;
	}
	pthread_mutex_unlock(&ar->ar_lock);
	return p;
}

static void
arena_free(void *ctx, void *ptr, size_t size)
{
	struct bench_arena *ar = ctx;
	struct arena_chunk *ch;

	(void)size;
	if (ptr == NULL)
		return;
	pthread_mutex_lock(&ar->ar_lock);
	if (ar->ar_live == 0) { /* not from this arena: ignore */
		pthread_mutex_unlock(&ar->ar_lock);
		return;
	}
	/* Nothing outstanding: start over in the oldest chunk, drop the
	 * rest (a ring built again lays its maps out as the first did). */
	if (--ar->ar_live == 0 && ar->ar_chunks != NULL) {
		while (ar->ar_chunks->ch_next != NULL) {
			ch = ar->ar_chunks;
			ar->ar_chunks = ch->ch_next;
			free(ch);
		}
		ar->ar_cur = ar->ar_chunks;
		ar->ar_used = 0;
	}
	pthread_mutex_unlock(&ar->ar_lock);
}
