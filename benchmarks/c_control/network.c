/*
 * The C control of benchmarks/bench_network_size.py: an open network of FIFO
 * c-server stations with exponential service, Poisson arrivals and Markov
 * routing, simulated by a plain event loop, with the measurements eda-sim's
 * fast engine keeps.
 *
 * It is what a C programmer would write for the same model: a binary heap of
 * events keyed by (time, order), one FIFO line per station as a linked list of
 * event slots, routing by bisection over each station's sparse row of
 * cumulative probabilities, random numbers drawn inline (xoshiro256**,
 * Blackman & Vigna 2018, "Scrambled linear pseudorandom number generators";
 * exponential times by inversion). Measured, as eda-sim measures them:
 *   - per station: time-weighted integrals of busy servers and of waiting
 *     events, arrivals, completions, sums of waits and of times per visit;
 *   - the system: time-weighted events present, entered, completed, the sum of
 *     end-to-end times;
 *   - external arrivals counted in windows of 5 expected arrivals (a histogram
 *     of counts) and a sample of up to 2,000 gaps (the Poisson checks);
 *   - hop counts per routing entry and exit;
 *   - snapshots of every station and of the system on a grid of 500 intervals
 *     (the sample path) and at the end of the warm-up.
 *
 * Build:  cc -O2 -o network network.c -lm
 * Run:    network INPUT HORIZON SEED     (INPUT as written by bench_network_size.py)
 *         PAD_EVENTS=1000 network ...  (an experiment: a heap 1,000 events deeper)
 * Output: one line "visits SECONDS checksum", SECONDS the event loop's own CPU time.
 *
 * Input (whitespace-separated numbers):
 *   N  arrival_rate  warmup
 *   entries  (then `entries` pairs: station cumulative_probability)
 *   N lines:  servers  mean_service  degree  (then `degree` pairs: target cumulative)
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PATH_INTERVALS 500
#define SNAPSHOT 6
#define MAX_GAPS 2000
#define MAX_BINS 4096

enum { ARRIVAL = 0, SERVICE_END = 1, TICK = 2, WARMUP = 3 };

typedef struct { double time; int64_t order; int64_t payload; } Entry;
typedef struct { double arrived, started, entered; int64_t station, next; } Slot;
typedef struct {
    double last, area_busy, area_waiting, wait_sum, sojourn_sum;
    int64_t present, arrivals, completions, servers, head, tail;
} Station;

static uint64_t rng_state[4];

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static uint64_t next_u64(void) {
    uint64_t result = rotl(rng_state[1] * 5, 7) * 9, t = rng_state[1] << 17;
    rng_state[2] ^= rng_state[0];
    rng_state[3] ^= rng_state[1];
    rng_state[1] ^= rng_state[2];
    rng_state[0] ^= rng_state[3];
    rng_state[2] ^= t;
    rng_state[3] = rotl(rng_state[3], 45);
    return result;
}

static double uniform(void) { return (next_u64() >> 11) * 0x1.0p-53; }
static double exponential(double mean) { return -mean * log1p(-uniform()); }

static void seed_rng(uint64_t seed) { /* splitmix64, as the authors recommend */
    for (int i = 0; i < 4; i++) {
        uint64_t z = (seed += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        rng_state[i] = z ^ (z >> 31);
    }
}

static Entry *heap;
static int64_t heap_size, heap_capacity, order_key;

static int before(const Entry *a, const Entry *b) {
    return a->time < b->time || (a->time == b->time && a->order < b->order);
}

static void push(double time, int64_t payload) {
    if (heap_size == heap_capacity) {
        heap_capacity *= 2;
        heap = realloc(heap, heap_capacity * sizeof(Entry));
    }
    Entry e = {time, order_key++, payload};
    int64_t i = heap_size++;
    while (i > 0) {
        int64_t parent = (i - 1) / 2;
        if (before(&heap[parent], &e)) break;
        heap[i] = heap[parent];
        i = parent;
    }
    heap[i] = e;
}

static Entry pop(void) {
    Entry top = heap[0], last = heap[--heap_size];
    int64_t i = 0;
    for (;;) {
        int64_t child = 2 * i + 1;
        if (child >= heap_size) break;
        if (child + 1 < heap_size && before(&heap[child + 1], &heap[child])) child++;
        if (!before(&heap[child], &last)) break;
        heap[i] = heap[child];
        i = child;
    }
    heap[i] = last;
    return top;
}

static int64_t pick(const double *cumulative, int64_t low, int64_t high, double u) {
    while (low < high) { /* the number of cumulative values <= u */
        int64_t middle = (low + high) / 2;
        if (cumulative[middle] <= u) low = middle + 1; else high = middle;
    }
    return low;
}

static void advance(Station *s, double now) {
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

int main(int argc, char **argv) {
    if (argc != 4) { fprintf(stderr, "usage: network INPUT HORIZON SEED\n"); return 2; }
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
    int64_t *hops = calloc(used + n, sizeof(int64_t)); /* per routing entry, then exits */

    /* the sample path and the warm-up snapshot; the arrival counter */
    double *path = malloc((size_t)n * (PATH_INTERVALS + 1) * SNAPSHOT * sizeof(double));
    double *system_path = calloc((PATH_INTERVALS + 1) * 3, sizeof(double));
    double *warm = calloc(n * SNAPSHOT, sizeof(double));
    double window = 5.0 / rate, gaps[MAX_GAPS];
    int64_t histogram[MAX_BINS] = {0}, current = 0, count = 0, kept = 0;
    double system_last = 0.0, system_area = 0.0, system_sojourn = 0.0;
    int64_t present = 0, entered = 0, done = 0;

    int64_t slots = 1024, n_free = slots;
    Slot *events = malloc(slots * sizeof(Slot));
    int64_t *free_slots = malloc(slots * sizeof(int64_t));
    for (int64_t s = 0; s < slots; s++) free_slots[s] = slots - 1 - s;
    heap_capacity = 1024;
    heap = malloc(heap_capacity * sizeof(Entry));
    snapshot(stations, n, 0.0, path);

    struct timespec start, stop;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &start);
    if (warmup > 0) push(warmup, WARMUP);
    double gap = exponential(1.0 / rate);
    push(gap, ARRIVAL);
    push(horizon / PATH_INTERVALS, (1 << 2) + TICK);
    /* An experiment, off by default: PAD_EVENTS=k adds k events after the horizon
     * (never popped), so that a small network's heap is as deep as a large one's. */
    const char *pad = getenv("PAD_EVENTS");
    for (int64_t i = 0, k = pad ? atoll(pad) : 0; i < k; i++)
        push(2.0 * horizon + (double)i, (1 << 2) + TICK);
    while (heap_size > 0 && heap[0].time < horizon) {
        Entry e = pop();
        double now = e.time;
        int64_t kind = e.payload & 3, index = e.payload >> 2, slot = -1, to = -1;
        if (kind == ARRIVAL) {
            if (now >= warmup) { /* the arrival counter */
                int64_t w = (int64_t)floor((now - warmup) / window);
                if (w != current) {
                    histogram[count < MAX_BINS ? count : MAX_BINS - 1]++;
                    histogram[0] += w - current - 1;
                    current = w;
                    count = 0;
                }
                count++;
                if (kept < MAX_GAPS && now - gap >= warmup) gaps[kept++] = gap;
            }
            int64_t p = pick(entry_cumulative, 0, n_entry, uniform());
            to = entry_target[p < n_entry - 1 ? p : n_entry - 1];
            if (n_free == 0) { /* grow the event pool */
                events = realloc(events, 2 * slots * sizeof(Slot));
                free_slots = realloc(free_slots, 2 * slots * sizeof(int64_t));
                for (int64_t s = 0; s < slots; s++) free_slots[s] = 2 * slots - 1 - s;
                n_free = slots;
                slots *= 2;
            }
            slot = free_slots[--n_free];
            events[slot].entered = now;
            system_area += present * (now - system_last);
            system_last = now;
            present++;
            entered++;
            gap = exponential(1.0 / rate);
            push(now + gap, ARRIVAL);
        } else if (kind == SERVICE_END) {
            slot = index;
            int64_t i = events[slot].station;
            Station *s = &stations[i];
            int64_t p = pick(cumulative, row_start[i], row_start[i + 1], uniform());
            to = p < row_start[i + 1] ? target[p] : -1;
            hops[p < row_start[i + 1] ? p : used + i]++;
            advance(s, now);
            s->present--;
            s->completions++;
            s->wait_sum += events[slot].started - events[slot].arrived;
            s->sojourn_sum += now - events[slot].arrived;
            int64_t head = s->head;
            if (head >= 0) { /* the server goes to the head of the line */
                s->head = events[head].next;
                if (s->head < 0) s->tail = -1;
                events[head].started = now;
                push(now + exponential(mean[i]), (head << 2) + SERVICE_END);
            }
            if (to < 0) { /* leaving the system */
                system_area += present * (now - system_last);
                system_last = now;
                present--;
                done++;
                system_sojourn += now - events[slot].entered;
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
                     ((index + 1) << 2) + TICK);
        } else {
            snapshot(stations, n, now, warm);
        }
        if (to >= 0) { /* arrival at station `to` */
            Station *s = &stations[to];
            advance(s, now);
            events[slot].station = to;
            events[slot].arrived = now;
            s->arrivals++;
            if (s->present++ < s->servers) {
                events[slot].started = now;
                push(now + exponential(mean[to]), (slot << 2) + SERVICE_END);
            } else {
                events[slot].next = -1;
                if (s->tail >= 0) events[s->tail].next = slot; else s->head = slot;
                s->tail = slot;
            }
        }
    }
    snapshot(stations, n, horizon, path + PATH_INTERVALS * n * SNAPSHOT);
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &stop);
    double seconds = (stop.tv_sec - start.tv_sec) + 1e-9 * (stop.tv_nsec - start.tv_nsec);

    int64_t visits = 0;
    double checksum = system_area + system_sojourn;
    for (int64_t i = 0; i < n; i++) {
        visits += stations[i].completions;
        double *end = path + (PATH_INTERVALS * n + i) * SNAPSHOT;
        checksum += end[0] + end[1] - warm[i * SNAPSHOT] + hops[i] + (double)histogram[i % MAX_BINS];
    }
    for (int64_t g = 0; g < kept; g++) checksum += gaps[g];
    printf("%ld %.9f %.6g\n", visits, seconds, checksum);
    return 0;
}
