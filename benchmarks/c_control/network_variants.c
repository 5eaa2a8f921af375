/*
 * Variants of network.c (the C control of benchmarks/bench_network_size.py),
 * to find out whether any event loop of this model grows by at most 1.5x in
 * time per visit from 3 to 1,000 stations on this machine, and which changes
 * take the growth down (issue 14 part 3; docs/performance.md, "Can any event
 * loop reach 1.5x?"). benchmarks/bench_c_variants.py builds and times them.
 * Selected at build time:
 *
 *   (no flag)       network.c's loop as it is: binary heap keyed by (time, order);
 *   -DCALENDAR      a calendar queue instead of the heap (R. Brown, "Calendar
 *                   queues: a fast O(1) priority queue implementation for the
 *                   simulation event set problem", CACM 31(10), 1988): buckets
 *                   of a fixed width holding sorted lists, the bucket count
 *                   doubled or halved when the events pass 2x or fall under
 *                   1/2 the buckets, the width then re-estimated from the
 *                   separations of the first 25 events (3x their mean, those
 *                   over 2x the mean left out). Bucket numbers are integers
 *                   (floor(time / width)), so that events keep exactly the
 *                   heap's (time, order) order;
 *   -DPREFETCH      when an event is popped, the next one's state is fetched
 *                   ahead (__builtin_prefetch): its slot, its station's record,
 *                   its routing row and hop counts (the station rides in every
 *                   variant's queue entries, so that no load waits for another);
 *   -DGUIDE         the entry draw (one station of N) by a guide table
 *                   (H.-C. Chen and Y. Asau, "On generating random variates
 *                   from an empirical distribution", AIIE Trans. 6(2), 1974)
 *                   instead of a bisection over N cumulative values;
 *   -DHYBRID=K      the heap while at most K events are pending, the calendar
 *                   queue above K (back to the heap under K / 4);
 *   -DBRANCHLESS    the heap's pop picks the earlier child by arithmetic (no
 *                   branch to mispredict), the entries past the end +inf;
 *   -DROW3          each routing draw without branches: every row padded to
 *                   3 entries (above any u), the entries <= u counted;
 *   -DINLINE        the hot functions (draws, queue operations, routing draws)
 *                   always inlined: gcc -O2 leaves some as calls, more of them
 *                   when two event sets are compiled in;
 *   -DBARE          a lower bound: the measurements stripped (no integrals,
 *                   sums, hop counts, arrival counter, sample path, ticks):
 *                   only the queue, each station's busy count and line, the
 *                   routing and the draws.
 *
 * Every variant draws the same random numbers in the same order as network.c
 * and pops the events in the same order, so it simulates the same visits;
 * with the measurements kept (all but -DBARE) its checksum is network.c's.
 * -DBARE prints the visits and a checksum of its own (the events in the
 * system at the end and their stations).
 *
 * Build:  cc -O2 [-DCALENDAR | -DHYBRID=64] [-DPREFETCH] [-DGUIDE] [-DINLINE] [-DBARE] \
 *             -o v network_variants.c -lm
 * Run:    v INPUT HORIZON SEED  (INPUT as written by bench_network_size.c_input)
 * Output: one line "visits SECONDS checksum", SECONDS the event loop's CPU time.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* -DINLINE: the hot functions always inlined into the loop (gcc -O2 otherwise
 * leaves the draws, push and, with two event sets, pop as calls) */
#ifdef INLINE
#define HOT static inline __attribute__((always_inline, unused))
#else
#define HOT __attribute__((unused)) static
#endif

#define PATH_INTERVALS 500
#define SNAPSHOT 6
#define MAX_GAPS 2000
#define MAX_BINS 4096

enum { ARRIVAL = 0, SERVICE_END = 1, TICK = 2, WARMUP = 3 };

/* payload: kind in bits 0-1, slot (or tick index) in bits 2-39, station above */
#define PAYLOAD(kind, index, station) \
    ((int64_t)(kind) | ((int64_t)(index) << 2) | ((int64_t)(station) << 40))
#define KIND(p) ((p) & 3)
#define INDEX(p) (((p) >> 2) & (((int64_t)1 << 38) - 1))
#define STATION(p) ((p) >> 40)

typedef struct { double time; int64_t order; int64_t payload; } Entry;
typedef struct { double arrived, started, entered; int64_t station, next; } Slot;
typedef struct {
    double last, area_busy, area_waiting, wait_sum, sojourn_sum;
    int64_t present, arrivals, completions, servers, head, tail;
} Station;

static uint64_t rng_state[4];

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

HOT uint64_t next_u64(void) { /* xoshiro256** (Blackman & Vigna 2018) */
    uint64_t result = rotl(rng_state[1] * 5, 7) * 9, t = rng_state[1] << 17;
    rng_state[2] ^= rng_state[0];
    rng_state[3] ^= rng_state[1];
    rng_state[1] ^= rng_state[2];
    rng_state[0] ^= rng_state[3];
    rng_state[2] ^= t;
    rng_state[3] = rotl(rng_state[3], 45);
    return result;
}

HOT double uniform(void) { return (next_u64() >> 11) * 0x1.0p-53; }
HOT double exponential(double mean) { return -mean * log1p(-uniform()); }

static void seed_rng(uint64_t seed) { /* splitmix64, as the authors recommend */
    for (int i = 0; i < 4; i++) {
        uint64_t z = (seed += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        rng_state[i] = z ^ (z >> 31);
    }
}

static int64_t order_key;

HOT int before(const Entry *a, const Entry *b) {
    return a->time < b->time || (a->time == b->time && a->order < b->order);
}

/* ------------------------------------------------------------- the binary heap */
static Entry *heap;
static int64_t heap_size, heap_capacity;

HOT void heap_insert(Entry e) {
    if (heap_size + 2 >= heap_capacity) { /* (two spare entries: see BRANCHLESS) */
        int64_t grown = heap_capacity ? 2 * heap_capacity : 1024;
        heap = realloc(heap, grown * sizeof(Entry));
        for (int64_t k = heap_capacity; k < grown; k++) heap[k] = (Entry){INFINITY, INT64_MAX, 0};
        heap_capacity = grown;
    }
    int64_t i = heap_size++;
    while (i > 0) {
        int64_t parent = (i - 1) / 2;
        if (before(&heap[parent], &e)) break;
        heap[i] = heap[parent];
        i = parent;
    }
    heap[i] = e;
}

#ifdef BRANCHLESS
/* the earlier child chosen by arithmetic, not a branch: the entries past the
 * end are +inf, so that the second child always exists */
HOT int earlier(const Entry *a, const Entry *b) {
    return (a->time < b->time) | ((a->time == b->time) & (a->order < b->order));
}
#endif

HOT Entry heap_take(void) { /* the earliest event; the heap is not empty */
    Entry top = heap[0], last = heap[--heap_size];
    int64_t i = 0;
#ifdef BRANCHLESS
    heap[heap_size] = (Entry){INFINITY, INT64_MAX, 0};
    for (;;) {
        int64_t child = 2 * i + 1;
        if (child >= heap_size) break;
        child += earlier(&heap[child + 1], &heap[child]);
        if (!earlier(&heap[child], &last)) break;
        heap[i] = heap[child];
        i = child;
    }
#else
    for (;;) {
        int64_t child = 2 * i + 1;
        if (child >= heap_size) break;
        if (child + 1 < heap_size && before(&heap[child + 1], &heap[child])) child++;
        if (!before(&heap[child], &last)) break;
        heap[i] = heap[child];
        i = child;
    }
#endif
    heap[i] = last;
    return top;
}

/* ------------------------------------------- the calendar queue (Brown 1988) */
typedef struct { Entry e; int64_t next; } Node;
static Node *nodes;
static int64_t *free_nodes, n_free_nodes, n_nodes;
static int64_t *bucket, n_buckets, calendar_size, current; /* current: a bucket number */
static double width = 1.0, inverse_width = 1.0, last_time;

HOT int64_t bucket_of(double time) { return (int64_t)(time * inverse_width); }

HOT void link_node(int64_t k) { /* into its bucket's list, sorted by (time, order) */
    int64_t *at = &bucket[bucket_of(nodes[k].e.time) & (n_buckets - 1)];
    while (*at >= 0 && before(&nodes[*at].e, &nodes[k].e)) at = &nodes[*at].next;
    nodes[k].next = *at;
    *at = k;
}

HOT int64_t unlink_first(void) { /* the node of the earliest event, out of its list */
    for (;;) {
        for (int64_t scanned = 0; scanned < n_buckets; scanned++, current++) {
            int64_t *at = &bucket[current & (n_buckets - 1)];
            if (*at >= 0 && bucket_of(nodes[*at].e.time) <= current) {
                int64_t k = *at;
                *at = nodes[k].next;
                return k;
            }
        }
        /* a whole year without an event: search the heads directly */
        int64_t best = -1;
        for (int64_t b = 0; b < n_buckets; b++)
            if (bucket[b] >= 0 && (best < 0 || before(&nodes[bucket[b]].e, &nodes[best].e)))
                best = bucket[b];
        current = bucket_of(nodes[best].e.time);
    }
}

static void empty_buckets(int64_t buckets) {
    n_buckets = buckets;
    bucket = malloc(n_buckets * sizeof(int64_t));
    for (int64_t b = 0; b < n_buckets; b++) bucket[b] = -1;
}

__attribute__((noinline)) static void resize(int64_t buckets) {
    /* the new width: 3x the mean separation of the first (up to) 25 events,
     * separations over twice the mean left out (Brown 1988, section 3) */
    int64_t taken[25], n_taken = calendar_size < 25 ? calendar_size : 25;
    for (int64_t t = 0; t < n_taken; t++) taken[t] = unlink_first();
    if (n_taken > 2) {
        double total = 0.0, kept = 0.0;
        int64_t n_kept = 0;
        for (int64_t t = 1; t < n_taken; t++)
            total += nodes[taken[t]].e.time - nodes[taken[t - 1]].e.time;
        double mean = total / (n_taken - 1);
        for (int64_t t = 1; t < n_taken; t++) {
            double separation = nodes[taken[t]].e.time - nodes[taken[t - 1]].e.time;
            if (separation <= 2.0 * mean) { kept += separation; n_kept++; }
        }
        if (n_kept > 0 && kept > 0.0) width = 3.0 * kept / n_kept;
    }
    inverse_width = 1.0 / width;
    int64_t *old = bucket, n_old = n_buckets;
    empty_buckets(buckets);
    for (int64_t b = 0; b < n_old; b++)
        for (int64_t k = old[b], next; k >= 0; k = next) { next = nodes[k].next; link_node(k); }
    free(old);
    for (int64_t t = 0; t < n_taken; t++) link_node(taken[t]);
    current = bucket_of(last_time);
}

HOT void calendar_insert(Entry e) {
    if (n_free_nodes == 0) { /* grow the node pool */
        int64_t grown = n_nodes ? 2 * n_nodes : 1024;
        nodes = realloc(nodes, grown * sizeof(Node));
        free_nodes = realloc(free_nodes, grown * sizeof(int64_t));
        for (int64_t k = 0; k < grown - n_nodes; k++) free_nodes[k] = grown - 1 - k;
        n_free_nodes = grown - n_nodes;
        n_nodes = grown;
    }
    int64_t k = free_nodes[--n_free_nodes];
    nodes[k].e = e;
    link_node(k);
    if (++calendar_size > 2 * n_buckets) resize(2 * n_buckets);
}

HOT Entry calendar_take(void) { /* the earliest event; the calendar is not empty */
    int64_t k = unlink_first();
    free_nodes[n_free_nodes++] = k;
    last_time = nodes[k].e.time;
    if (--calendar_size < n_buckets / 2 - 2 && n_buckets > 2) resize(n_buckets / 2);
    return nodes[k].e;
}

/* ---------------------------------------------------- the event set in use */
#if defined(HYBRID)
/* a heap while there are few events, a calendar queue once there are more than
 * HYBRID (moved back below HYBRID / 4): each structure where it is fastest */
static int in_calendar;

static void queue_open(void) { empty_buckets(2); }

__attribute__((noinline)) static void to_calendar(void) { /* a fresh calendar, sized and its width set as it fills */
    free(bucket);
    empty_buckets(2);
    current = bucket_of(last_time);
    while (heap_size > 0) calendar_insert(heap_take());
    in_calendar = 1;
}

__attribute__((noinline)) static void to_heap(void) {
    while (calendar_size > 0) heap_insert(calendar_take());
    in_calendar = 0;
}

HOT void push(double time, int64_t payload) {
    Entry e = {time, order_key++, payload};
    if (in_calendar) { calendar_insert(e); return; }
    heap_insert(e);
    if (heap_size > HYBRID) to_calendar();
}

HOT int pop(Entry *top) {
    if (!in_calendar) {
        if (heap_size == 0) return 0;
        *top = heap_take();
        last_time = top->time;
        return 1;
    }
    *top = calendar_take();
    if (calendar_size < HYBRID / 4) to_heap();
    return 1;
}
#elif defined(CALENDAR)
static void queue_open(void) { empty_buckets(2); }

HOT void push(double time, int64_t payload) {
    calendar_insert((Entry){time, order_key++, payload});
}

HOT int pop(Entry *top) {
    if (calendar_size == 0) return 0;
    *top = calendar_take();
    return 1;
}
#else
static void queue_open(void) {}

HOT void push(double time, int64_t payload) { heap_insert((Entry){time, order_key++, payload}); }

HOT int pop(Entry *top) {
    if (heap_size == 0) return 0;
    *top = heap_take();
    return 1;
}
#endif

__attribute__((unused)) static const Entry *peek_next(void) {
    /* the next event (in the calendar, a guess: the head of the current bucket or the next) */
#if defined(CALENDAR) || defined(HYBRID)
#ifdef HYBRID
    if (!in_calendar) return heap_size > 0 ? &heap[0] : NULL;
#endif
    int64_t k = bucket[current & (n_buckets - 1)];
    if (k < 0) k = bucket[(current + 1) & (n_buckets - 1)];
    return k >= 0 ? &nodes[k].e : NULL;
#else
    return heap_size > 0 ? &heap[0] : NULL;
#endif
}

HOT int64_t pick(const double *cumulative, int64_t low, int64_t high, double u) {
    while (low < high) { /* the number of cumulative values <= u */
        int64_t middle = (low + high) / 2;
        if (cumulative[middle] <= u) low = middle + 1; else high = middle;
    }
    return low;
}

#ifdef GUIDE
static int64_t *guide, n_guide;

static void build_guide(const double *cumulative, int64_t n) {
    /* guide[k]: the number of cumulative values whose cell (int)(c * n) is below k,
     * so that for any u of cell k, guide[k] <= the number of values <= u */
    n_guide = n;
    guide = calloc(n + 2, sizeof(int64_t));
    for (int64_t p = 0; p < n; p++) {
        int64_t cell = (int64_t)(cumulative[p] * n);
        if (cell > n) cell = n;
        guide[cell + 1]++;
    }
    for (int64_t k = 1; k <= n + 1; k++) guide[k] += guide[k - 1];
}

HOT int64_t pick_entry(const double *cumulative, int64_t n, double u) {
    int64_t p = guide[(int64_t)(u * n_guide)];
    while (p < n && cumulative[p] <= u) p++;
    return p;
}
#else
HOT int64_t pick_entry(const double *cumulative, int64_t n, double u) {
    return pick(cumulative, 0, n, u);
}
#endif

HOT void advance(Station *s, double now) {
    double elapsed = now - s->last;
    if (elapsed != 0.0) {
        int64_t busy = s->present < s->servers ? s->present : s->servers;
        s->area_busy += busy * elapsed;
        s->area_waiting += (s->present - busy) * elapsed;
        s->last = now;
    }
}

static void snapshot(const Station *stations, int64_t n, double now, double *out) {
    for (int64_t i = 0; i < n; i++) {
        const Station *s = &stations[i];
        int64_t busy = s->present < s->servers ? s->present : s->servers;
        double elapsed = now - s->last;
        double *row = out + i * SNAPSHOT;
        row[0] = s->area_busy + busy * elapsed;
        row[1] = s->area_waiting + (s->present - busy) * elapsed;
        row[2] = (double)s->arrivals;
        row[3] = (double)s->completions;
        row[4] = s->wait_sum;
        row[5] = s->sojourn_sum;
    }
}

#ifdef BARE
#define MEASURE(statement)
#else
#define MEASURE(statement) statement
#endif

int main(int argc, char **argv) {
    if (argc != 4) { fprintf(stderr, "usage: network_variants INPUT HORIZON SEED\n"); return 2; }
    FILE *input = fopen(argv[1], "r");
    if (!input) { perror(argv[1]); return 2; }
    double horizon = atof(argv[2]), rate, warmup;
    int64_t n, n_entry;
    seed_rng((uint64_t)atoll(argv[3]));
    if (fscanf(input, "%ld %lf %lf %ld", &n, &rate, &warmup, &n_entry) != 4) return 2;
    int64_t *entry_target = malloc(n_entry * sizeof(int64_t));
    double *entry_cumulative = malloc(n_entry * sizeof(double));
    for (int64_t e = 0; e < n_entry; e++)
        if (fscanf(input, "%ld %lf", &entry_target[e], &entry_cumulative[e]) != 2) return 2;
    Station *stations = calloc(n, sizeof(Station));
    double *mean = malloc(n * sizeof(double));
    int64_t *row_start = malloc((n + 1) * sizeof(int64_t)), capacity = 4 * n + 4, used = 0;
    int64_t *target = malloc(capacity * sizeof(int64_t));
    double *cumulative = malloc(capacity * sizeof(double));
    for (int64_t i = 0; i < n; i++) {
        int64_t degree;
        if (fscanf(input, "%ld %lf %ld", &stations[i].servers, &mean[i], &degree) != 3) return 2;
        stations[i].head = stations[i].tail = -1;
        row_start[i] = used;
        if (used + degree > capacity) {
            capacity = 2 * (used + degree);
            target = realloc(target, capacity * sizeof(int64_t));
            cumulative = realloc(cumulative, capacity * sizeof(double));
        }
        for (int64_t d = 0; d < degree; d++, used++)
            if (fscanf(input, "%ld %lf", &target[used], &cumulative[used]) != 2) return 2;
    }
    row_start[n] = used;
    fclose(input);
#ifdef GUIDE
    build_guide(entry_cumulative, n_entry);
#endif
#ifdef ROW3 /* every routing row padded to 3 entries, the padding above any u */
    double *row3 = malloc(3 * n * sizeof(double));
    for (int64_t i = 0; i < n; i++) {
        if (row_start[i + 1] - row_start[i] > 3) { fprintf(stderr, "ROW3: degree > 3\n"); return 2; }
        for (int64_t d = 0; d < 3; d++)
            row3[3 * i + d] = row_start[i] + d < row_start[i + 1] ? cumulative[row_start[i] + d] : 2.0;
    }
#endif
#ifndef BARE
    int64_t *hops = calloc(used + n, sizeof(int64_t)); /* per routing entry, then exits */
    double window = 5.0 / rate, gaps[MAX_GAPS];
    int64_t histogram[MAX_BINS] = {0}, current_window = 0, count = 0, kept = 0;
#endif
    /* the sample path and the warm-up snapshot; the system's integrals */
    double *path = malloc((size_t)n * (PATH_INTERVALS + 1) * SNAPSHOT * sizeof(double));
    double *system_path = calloc((PATH_INTERVALS + 1) * 3, sizeof(double));
    double *warm = calloc(n * SNAPSHOT, sizeof(double));
    double system_last = 0.0, system_area = 0.0, system_sojourn = 0.0;
    int64_t present = 0, entered = 0, done = 0, visits = 0;

    int64_t slots = 1024, n_free = slots;
    Slot *events = malloc(slots * sizeof(Slot));
    int64_t *free_slots = malloc(slots * sizeof(int64_t));
    for (int64_t s = 0; s < slots; s++) free_slots[s] = slots - 1 - s;
    queue_open();
    snapshot(stations, n, 0.0, path);

    struct timespec start, stop;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &start);
    MEASURE(if (warmup > 0) push(warmup, WARMUP));
    double gap = exponential(1.0 / rate);
    push(gap, ARRIVAL);
    MEASURE(push(horizon / PATH_INTERVALS, PAYLOAD(TICK, 1, 0)));
    Entry e;
    while (pop(&e) && e.time < horizon) {
        double now = e.time;
        int64_t kind = KIND(e.payload), index = INDEX(e.payload), slot = -1, to = -1;
#ifdef PREFETCH
        const Entry *next = peek_next();
        if (next && KIND(next->payload) == SERVICE_END) {
            int64_t i = STATION(next->payload);
            __builtin_prefetch(&events[INDEX(next->payload)], 1);
            __builtin_prefetch(&stations[i], 1);
#ifdef ROW3
            __builtin_prefetch(&row3[3 * i]);
#else
            __builtin_prefetch(&cumulative[row_start[i]]);
#endif
            __builtin_prefetch(&target[row_start[i]]);
            MEASURE(__builtin_prefetch(&hops[row_start[i]], 1));
        }
#endif
        if (kind == ARRIVAL) {
#ifndef BARE
            if (now >= warmup) { /* the arrival counter */
                int64_t w = (int64_t)floor((now - warmup) / window);
                if (w != current_window) {
                    histogram[count < MAX_BINS ? count : MAX_BINS - 1]++;
                    histogram[0] += w - current_window - 1;
                    current_window = w;
                    count = 0;
                }
                count++;
                if (kept < MAX_GAPS && now - gap >= warmup) gaps[kept++] = gap;
            }
#endif
            int64_t p = pick_entry(entry_cumulative, n_entry, uniform());
            to = entry_target[p < n_entry - 1 ? p : n_entry - 1];
            if (n_free == 0) { /* grow the event pool */
                events = realloc(events, 2 * slots * sizeof(Slot));
                free_slots = realloc(free_slots, 2 * slots * sizeof(int64_t));
                for (int64_t s = 0; s < slots; s++) free_slots[s] = 2 * slots - 1 - s;
                n_free = slots;
                slots *= 2;
            }
            slot = free_slots[--n_free];
            MEASURE(events[slot].entered = now);
            MEASURE(system_area += present * (now - system_last));
            MEASURE(system_last = now);
            present++;
            entered++;
            gap = exponential(1.0 / rate);
            push(now + gap, ARRIVAL);
        } else if (kind == SERVICE_END) {
            slot = index;
            int64_t i = events[slot].station;
            Station *s = &stations[i];
#ifdef ROW3
            double u = uniform();
            const double *row = row3 + 3 * i;
            int64_t p = row_start[i] + (row[0] <= u) + (row[1] <= u) + (row[2] <= u);
#else
            int64_t p = pick(cumulative, row_start[i], row_start[i + 1], uniform());
#endif
            to = p < row_start[i + 1] ? target[p] : -1;
            MEASURE(hops[p < row_start[i + 1] ? p : used + i]++);
            MEASURE(advance(s, now));
            s->present--;
            visits++;
            MEASURE(s->completions++);
            MEASURE(s->wait_sum += events[slot].started - events[slot].arrived);
            MEASURE(s->sojourn_sum += now - events[slot].arrived);
            int64_t head = s->head;
            if (head >= 0) { /* the server goes to the head of the line */
                s->head = events[head].next;
                if (s->head < 0) s->tail = -1;
                MEASURE(events[head].started = now);
                push(now + exponential(mean[i]), PAYLOAD(SERVICE_END, head, i));
            }
            if (to < 0) { /* leaving the system */
                MEASURE(system_area += present * (now - system_last));
                MEASURE(system_last = now);
                present--;
                done++;
                MEASURE(system_sojourn += now - events[slot].entered);
                free_slots[n_free++] = slot;
            }
        } else if (kind == TICK) {
            snapshot(stations, n, now, path + index * n * SNAPSHOT);
            double *row = system_path + index * 3;
            row[0] = system_area + present * (now - system_last);
            row[1] = (double)done;
            row[2] = system_sojourn;
            if (index < PATH_INTERVALS - 1)
                push(now + (horizon * (index + 1) / PATH_INTERVALS - now),
                     PAYLOAD(TICK, index + 1, 0));
        } else {
            snapshot(stations, n, now, warm);
        }
        if (to >= 0) { /* arrival at station `to` */
            Station *s = &stations[to];
            MEASURE(advance(s, now));
            events[slot].station = to;
            MEASURE(events[slot].arrived = now);
            MEASURE(s->arrivals++);
            if (s->present++ < s->servers) {
                MEASURE(events[slot].started = now);
                push(now + exponential(mean[to]), PAYLOAD(SERVICE_END, slot, to));
            } else {
                events[slot].next = -1;
                if (s->tail >= 0) events[s->tail].next = slot; else s->head = slot;
                s->tail = slot;
            }
        }
    }
    MEASURE(snapshot(stations, n, horizon, path + PATH_INTERVALS * n * SNAPSHOT));
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &stop);
    double seconds = (stop.tv_sec - start.tv_sec) + 1e-9 * (stop.tv_nsec - start.tv_nsec);

#ifdef BARE
    double checksum = (double)present;
    for (int64_t i = 0; i < n; i++) checksum += (double)(i + 1) * stations[i].present;
#else
    double checksum = system_area + system_sojourn;
    for (int64_t i = 0; i < n; i++) {
        double *end = path + (PATH_INTERVALS * n + i) * SNAPSHOT;
        checksum += end[0] + end[1] - warm[i * SNAPSHOT] + hops[i] + (double)histogram[i % MAX_BINS];
    }
    for (int64_t g = 0; g < kept; g++) checksum += gaps[g];
#endif
    printf("%ld %.9f %.6g\n", visits, seconds, checksum);
    return 0;
}
