/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The planner works on a "state": one entry per installed package (name, arch) plus one per
 * package the plan adds, each remembering its installed version and, once chosen, the candidate
 * it moves to. Upgrades are chosen first; then a worklist walks the Depends and Pre-Depends of
 * every chosen candidate and, for each clause the state after the upgrade does not satisfy,
 * takes the first alternative that can be satisfied (upgrade an installed package, install a
 * real package, install a provider), in field order, as apt's resolver does for a fresh
 * dependency. All iteration is over sorted data, so the same inputs give the same plan.
 */
#include "pf/setup.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pf/alloc.h"
#include "pf/err.h"
#include "deb/apt_index.h"
#include "deb/apt_plan.h"
#include "deb/deb822.h"
#include "deb/dpkg_db.h"
#include "deb/version_deb.h"

enum rel_op {
    REL_NONE,
    REL_LT, /* << */
    REL_LE, /* <= (and the obsolete <) */
    REL_EQ, /* = */
    REL_GE, /* >= (and the obsolete >) */
    REL_GT, /* >> */
};

struct atom {
    char *name;
    char *archq; /* NULL, "any", "native" or an architecture */
    enum rel_op op;
    char *ver;
};

struct clause {
    struct atom *alts;
    size_t n;
};

struct deps {
    struct clause *v;
    size_t n;
};

struct st_entry {
    const char *name, *arch, *multi_arch, *provides, *version; /* installed values */
    const struct worker_dpkg_pkg *installed;                   /* NULL for a new package */
    const struct worker_apt_candidate *cand;                   /* chosen target or NULL */
    bool held;
};

struct planner {
    const struct worker_apt_index *idx;
    const char *native;
    struct st_entry *st;
    size_t n, cap;
    char *errbuf;
    size_t errlen;
};

static void clause_clear(struct clause *c)
{
    for (size_t j = 0; j < c->n; j++) {
        pf_free(c->alts[j].name);
        pf_free(c->alts[j].archq);
        pf_free(c->alts[j].ver);
    }
    c->alts = pf_free(c->alts);
    c->n = 0;
}

static void deps_clear(struct deps *d)
{
    for (size_t i = 0; i < d->n; i++)
        clause_clear(&d->v[i]);
    d->v = pf_free(d->v);
    d->n = 0;
}

static const char *skip_ws(const char *p)
{
    while (isspace((unsigned char)*p))
        p++;
    return p;
}

static enum rel_op parse_op(const char **pp)
{
    static const struct {
        const char *s;
        enum rel_op op;
    } ops[] = {{"<<", REL_LT}, {"<=", REL_LE}, {">=", REL_GE}, {">>", REL_GT},
               {"=", REL_EQ},  {"<", REL_LE},  {">", REL_GE}};

    for (size_t i = 0; i < PF_ARRAY_SIZE(ops); i++) {
        size_t l = strlen(ops[i].s);

        if (strncmp(*pp, ops[i].s, l) == 0) {
            *pp += l;
            return ops[i].op;
        }
    }
    return REL_NONE;
}

/* Parses one alternative "name[:arch] [(op version)]" from s[0..len). */
static int parse_atom(const char *s, size_t len, struct atom *ret)
{
    char *e = pf_strndup(s, len);
    const char *p, *q;
    struct atom a = {0};
    bool has_q = false;
    int r = -EINVAL;

    if (!e)
        return -ENOMEM;
    p = skip_ws(e);
    q = p + strcspn(p, " \t\n(:");
    if (q == p)
        goto out;
    a.name = pf_strndup(p, (size_t)(q - p));
    if (*q == ':') {
        has_q = true;
        p = q + 1;
        q = p + strcspn(p, " \t\n(");
        if (q == p)
            goto out;
        a.archq = pf_strndup(p, (size_t)(q - p));
    }
    p = skip_ws(q);
    if (*p == '(') {
        p = skip_ws(p + 1);
        a.op = parse_op(&p);
        p = skip_ws(p);
        q = p + strcspn(p, " \t\n)");
        if (a.op == REL_NONE || q == p)
            goto out;
        a.ver = pf_strndup(p, (size_t)(q - p));
        p = skip_ws(q);
        if (*p != ')')
            goto out;
        p = skip_ws(p + 1);
    }
    if (*p != '\0')
        goto out;
    r = -ENOMEM;
    if (!a.name || (has_q && !a.archq) || (a.op != REL_NONE && !a.ver))
        goto out;
    *ret = a;
    a = (struct atom){0};
    r = 0;
out:
    pf_free(a.name);
    pf_free(a.archq);
    pf_free(a.ver);
    pf_free(e);
    return r;
}

/* Parses one clause "a | b (>= 1)" from s[0..len). */
static int parse_clause(const char *s, size_t len, struct clause *ret)
{
    struct clause c = {0};
    size_t n = 1;
    int r = 0;

    for (size_t i = 0; i < len; i++)
        n += s[i] == '|';
    c.alts = pf_calloc(n, sizeof(*c.alts));
    if (!c.alts)
        return -ENOMEM;
    while (c.n < n) {
        const char *bar = memchr(s, '|', len);
        size_t l = bar ? (size_t)(bar - s) : len;

        r = parse_atom(s, l, &c.alts[c.n]);
        if (r < 0)
            break;
        c.n++;
        if (!bar)
            break;
        len -= l + 1;
        s = bar + 1;
    }
    if (r < 0) {
        clause_clear(&c);
        return r;
    }
    *ret = c;
    return 0;
}

/* Parses a Depends-style field (NULL or empty gives no clauses). */
static int parse_deps(const char *field, struct deps *ret)
{
    struct deps d = {0};
    size_t n = 1;
    const char *p = field;
    int r;

    if (!field || !*skip_ws(field)) {
        *ret = d;
        return 0;
    }
    for (const char *s = field; *s; s++)
        n += *s == ',';
    d.v = pf_calloc(n, sizeof(*d.v));
    if (!d.v)
        return -ENOMEM;
    for (;;) {
        size_t l = strcspn(p, ",");

        r = parse_clause(p, l, &d.v[d.n]);
        if (r < 0) {
            deps_clear(&d);
            return r;
        }
        d.n++;
        if (p[l] != ',')
            break;
        p += l + 1;
    }
    *ret = d;
    return 0;
}

static bool rel_ok(const char *have, enum rel_op op, const char *want)
{
    int cmp = 0;

    if (op == REL_NONE)
        return true;
    if (!have || worker_deb_version_compare(have, want, &cmp) < 0)
        return false;
    switch (op) {
    case REL_LT:
        return cmp < 0;
    case REL_LE:
        return cmp <= 0;
    case REL_EQ:
        return cmp == 0;
    case REL_GE:
        return cmp >= 0;
    case REL_GT:
        return cmp > 0;
    default:
        return false;
    }
}

static bool str_eq(const char *a, const char *b)
{
    return a && b && strcmp(a, b) == 0;
}

/* dpkg's deparchsatisfied(): may a package of arch `arch` / Multi-Arch `ma` satisfy an atom
 * with qualifier `q` of a depender of arch `dep_arch`? Arch "all" counts as native. */
static bool arch_ok(const struct planner *pl, const char *arch, const char *ma, const char *q,
                    const char *dep_arch)
{
    const char *eff = !arch || !*arch || strcmp(arch, "all") == 0 ? pl->native : arch;
    const char *dep = !dep_arch || !*dep_arch || strcmp(dep_arch, "all") == 0 ? pl->native
                                                                              : dep_arch;

    if (str_eq(ma, "foreign"))
        return true;
    if (!q)
        return strcmp(eff, dep) == 0;
    if (strcmp(q, "any") == 0)
        return str_eq(ma, "allowed");
    if (strcmp(q, "native") == 0)
        return strcmp(eff, pl->native) == 0;
    return strcmp(eff, q) == 0;
}

struct prov_match {
    const char *name;
    enum rel_op op;
    const char *ver;
    bool found;
};

static int prov_match_cb(const char *name, const char *version, void *userdata)
{
    struct prov_match *m = userdata;

    /* An unversioned Provides never satisfies a versioned dependency (Debian policy 7.5). */
    if (strcmp(name, m->name) == 0 &&
        (m->op == REL_NONE || (version && rel_ok(version, m->op, m->ver)))) {
        m->found = true;
        return 1;
    }
    return 0;
}

static bool provides_ok(const char *provides, const struct atom *a)
{
    struct prov_match m = {a->name, a->op, a->ver, false};

    (void)worker_apt_provides_foreach(provides, prov_match_cb, &m);
    return m.found;
}

/* The values an entry has before (after == false) or after the plan. */
static bool entry_view(const struct st_entry *e, bool after, const char **name, const char **arch,
                       const char **ma, const char **ver, const char **prov)
{
    if (after && e->cand) {
        *name = e->cand->package;
        *arch = e->cand->arch;
        *ma = e->cand->multi_arch;
        *ver = e->cand->version;
        *prov = e->cand->provides;
        return true;
    }
    if (!e->installed)
        return false;
    *name = e->name;
    *arch = e->arch;
    *ma = e->multi_arch;
    *ver = e->version;
    *prov = e->provides;
    return true;
}

static bool clause_satisfied(const struct planner *pl, const struct clause *c, const char *dep_arch,
                             bool after)
{
    for (size_t i = 0; i < c->n; i++) {
        const struct atom *a = &c->alts[i];

        for (size_t j = 0; j < pl->n; j++) {
            const char *name, *arch, *ma, *ver, *prov;

            if (!entry_view(&pl->st[j], after, &name, &arch, &ma, &ver, &prov))
                continue;
            if (strcmp(name, a->name) == 0 && arch_ok(pl, arch, ma, a->archq, dep_arch) &&
                rel_ok(ver, a->op, a->ver))
                return true;
            if (prov && arch_ok(pl, arch, ma, a->archq, dep_arch) && provides_ok(prov, a))
                return true;
        }
    }
    return false;
}

static struct st_entry *find_entry(struct planner *pl, const char *name, const char *arch)
{
    for (size_t i = 0; i < pl->n; i++)
        if (strcmp(pl->st[i].name, name) == 0 && strcmp(pl->st[i].arch, arch) == 0)
            return &pl->st[i];
    return NULL;
}

static int add_entry(struct planner *pl, const struct worker_dpkg_pkg *p,
                     const struct worker_apt_candidate *c)
{
    struct st_entry *e;

    if (PF_GROW(pl->st, pl->cap, pl->n + 1) < 0)
        return -ENOMEM;
    e = &pl->st[pl->n++];
    memset(e, 0, sizeof(*e));
    if (p) {
        e->name = p->name;
        e->arch = p->arch;
        e->multi_arch = p->multi_arch;
        e->version = p->version;
        e->provides = worker_deb822_para_get(&p->para, "Provides");
        e->installed = p;
        e->held = p->held;
    } else {
        e->name = c->package;
        e->arch = c->arch;
    }
    e->cand = c;
    return 0;
}

static bool newer(const char *a, const char *b)
{
    int cmp = 0;

    return worker_deb_version_compare(a, b, &cmp) == 0 && cmp > 0;
}

/* The best candidate of exactly (name, arch), or NULL. */
static const struct worker_apt_candidate *best_for(const struct planner *pl, const char *name,
                                                   const char *arch)
{
    const struct worker_apt_candidate *const *c = NULL;
    size_t n = worker_apt_index_lookup(pl->idx, name, &c);

    for (size_t i = 0; i < n; i++)
        if (strcmp(c[i]->arch, arch) == 0)
            return c[i];
    return NULL;
}

static int push_held(struct pf_strv *held, const struct st_entry *e)
{
    return pf_strv_pushf(held, "%s:%s", e->name, e->arch);
}

/*
 * Multi-Arch: same packages installed for several architectures must keep one version, so the
 * set moves to the best version every member's architecture offers, or stays.
 */
static int upgrade_same_group(struct planner *pl, size_t g0, size_t g1, struct pf_strv *held)
{
    const struct worker_apt_candidate *const *c = NULL;
    const struct worker_apt_candidate **pick = pf_calloc(g1 - g0, sizeof(*pick));
    size_t n = worker_apt_index_lookup(pl->idx, pl->st[g0].name, &c);
    bool found = false, any_held = false;
    int r = 0;

    if (!pick)
        return -ENOMEM;
    for (size_t i = 0; i < n && !found; i++) {
        bool ok = strcmp(c[i]->arch, pl->st[g0].arch) == 0, moves = false;

        for (size_t m = g0; ok && m < g1; m++) {
            int cmp = 0;

            pick[m - g0] = NULL;
            for (size_t k = 0; k < n && !pick[m - g0]; k++)
                if (strcmp(c[k]->arch, pl->st[m].arch) == 0 &&
                    worker_deb_version_compare(c[k]->version, c[i]->version, &cmp) == 0 && cmp == 0)
                    pick[m - g0] = c[k];
            if (!pick[m - g0] ||
                worker_deb_version_compare(c[i]->version, pl->st[m].version, &cmp) < 0 || cmp < 0)
                ok = false;
            moves |= cmp > 0;
        }
        found = ok && moves;
    }
    for (size_t m = g0; found && m < g1; m++)
        any_held |= pl->st[m].held;
    for (size_t m = g0; found && m < g1 && r == 0; m++) {
        if (!any_held)
            pl->st[m].cand = pick[m - g0];
        else if (pl->st[m].held)
            r = push_held(held, &pl->st[m]);
    }
    pf_free(pick);
    return r;
}

/* Chooses the upgrades of installed packages; state entries [0, n) are the installed ones,
 * sorted by name then arch as the dpkg database keeps them. */
static int choose_upgrades(struct planner *pl, struct pf_strv *held)
{
    size_t g0 = 0;

    while (g0 < pl->n) {
        size_t g1 = g0 + 1;
        bool same = str_eq(pl->st[g0].multi_arch, "same");
        int r = 0;

        while (g1 < pl->n && strcmp(pl->st[g1].name, pl->st[g0].name) == 0) {
            same = same && str_eq(pl->st[g1].multi_arch, "same");
            g1++;
        }
        if (g1 - g0 > 1 && same) {
            r = upgrade_same_group(pl, g0, g1, held);
        } else {
            for (size_t i = g0; i < g1 && r == 0; i++) {
                struct st_entry *e = &pl->st[i];
                const struct worker_apt_candidate *c = best_for(pl, e->name, e->arch);

                if (!c || !newer(c->version, e->version))
                    continue;
                if (e->held)
                    r = push_held(held, e);
                else
                    e->cand = c;
            }
        }
        if (r < 0)
            return r;
        g0 = g1;
    }
    return 0;
}

/*
 * A clause the installed version already left unmet (distroless status.d lists no dependency
 * closure, and a stripped image may lack what the package nominally needs) is not pulled in:
 * the image demonstrably works without it, and apt would not be run there at all.
 */
static int tolerated(const struct planner *pl, const struct st_entry *e, const struct clause *c,
                     bool *ret)
{
    struct deps old = {0};
    const char *fields[2];
    int r = 0;

    *ret = false;
    if (!e->installed || clause_satisfied(pl, c, e->arch, false))
        return 0;
    fields[0] = e->installed->pre_depends;
    fields[1] = e->installed->depends;
    for (size_t f = 0; f < 2 && !*ret; f++) {
        r = parse_deps(fields[f], &old);
        if (r < 0)
            return 0; /* a malformed installed stanza tolerates nothing */
        for (size_t i = 0; i < old.n && !*ret; i++) {
            if (clause_satisfied(pl, &old.v[i], e->arch, false))
                continue;
            for (size_t a = 0; a < old.v[i].n && !*ret; a++)
                for (size_t b = 0; b < c->n && !*ret; b++)
                    *ret = strcmp(old.v[i].alts[a].name, c->alts[b].name) == 0;
        }
        deps_clear(&old);
    }
    return 0;
}

static void clause_text(const struct clause *c, char *buf, size_t len)
{
    static const char *const ops[] = {"", "<<", "<=", "=", ">=", ">>"};
    size_t off = 0;

    buf[0] = '\0';
    for (size_t i = 0; i < c->n && off < len; i++) {
        const struct atom *a = &c->alts[i];
        int w = snprintf(buf + off, len - off, "%s%s%s%s%s%s%s%s", i ? " | " : "", a->name,
                         a->archq ? ":" : "", a->archq ? a->archq : "", a->ver ? " (" : "",
                         a->ver ? ops[a->op] : "", a->ver ? " " : "", a->ver ? a->ver : "");

        if (w < 0)
            return;
        off += (size_t)w;
        if (a->ver && off < len)
            off += (size_t)snprintf(buf + off, len - off, ")");
    }
}

struct queue {
    size_t *v;
    size_t n, cap;
};

static int queue_push(struct queue *q, size_t i)
{
    if (PF_GROW(q->v, q->cap, q->n + 1) < 0)
        return -ENOMEM;
    q->v[q->n++] = i;
    return 0;
}

/* Moves entry i to `c` unless it is held; records the first held blocker's index. */
static int move_entry(struct planner *pl, size_t i, const struct worker_apt_candidate *c,
                      struct queue *q, size_t *blocked)
{
    if (pl->st[i].held) {
        if (*blocked == SIZE_MAX)
            *blocked = i;
        return 0;
    }
    pl->st[i].cand = c;
    return queue_push(q, i) < 0 ? -ENOMEM : 1;
}

static int install_new(struct planner *pl, const struct worker_apt_candidate *c, struct queue *q)
{
    if (add_entry(pl, NULL, c) < 0 || queue_push(q, pl->n - 1) < 0)
        return -ENOMEM;
    return 1;
}

static bool same_arch(const struct planner *pl, const char *a, const char *b)
{
    const char *ea = strcmp(a, "all") == 0 ? pl->native : a;
    const char *eb = strcmp(b, "all") == 0 ? pl->native : b;

    return strcmp(ea, eb) == 0;
}

/* Tries to satisfy atom `a` of a depender of arch `dep_arch` by moving an installed package:
 * returns 1 when it did, 0 when it cannot, or -ENOMEM. */
static int try_installed(struct planner *pl, const struct atom *a, const char *dep_arch,
                         struct queue *q, size_t *blocked)
{
    const struct worker_apt_candidate *const *c = NULL;
    size_t n = worker_apt_index_lookup(pl->idx, a->name, &c);

    for (size_t i = 0; i < pl->n; i++) {
        struct st_entry *e = &pl->st[i];

        if (!e->installed || e->cand || strcmp(e->name, a->name) != 0 ||
            !arch_ok(pl, e->arch, e->multi_arch, a->archq, dep_arch))
            continue;
        for (size_t k = 0; k < n; k++)
            if (strcmp(c[k]->arch, e->arch) == 0 && newer(c[k]->version, e->version) &&
                rel_ok(c[k]->version, a->op, a->ver))
                return move_entry(pl, i, c[k], q, blocked);
    }
    return 0;
}

/* Tries candidates of `a` (real packages when `virt` is false, providers otherwise) not yet in
 * the state, preferring the depender's own architecture. Returns 1, 0 or -ENOMEM. */
static int try_candidates(struct planner *pl, const struct atom *a, const char *dep_arch, bool virt,
                          struct queue *q, size_t *blocked)
{
    const struct worker_apt_candidate *const *c = NULL;
    size_t n = virt ? worker_apt_index_providers(pl->idx, a->name, &c)
                    : worker_apt_index_lookup(pl->idx, a->name, &c);

    for (int pass = 0; pass < 2; pass++) {
        for (size_t k = 0; k < n; k++) {
            struct st_entry *e;

            if ((pass == 0) != same_arch(pl, c[k]->arch, dep_arch) ||
                !arch_ok(pl, c[k]->arch, c[k]->multi_arch, a->archq, dep_arch))
                continue;
            if (virt ? !provides_ok(c[k]->provides, a) : !rel_ok(c[k]->version, a->op, a->ver))
                continue;
            e = find_entry(pl, c[k]->package, c[k]->arch);
            if (!e)
                return install_new(pl, c[k], q);
            if (virt && !e->cand && e->installed && newer(c[k]->version, e->version))
                return move_entry(pl, (size_t)(e - pl->st), c[k], q, blocked);
        }
    }
    return 0;
}

/* Satisfies one unmet clause of `c` by its first workable alternative. */
static int resolve_clause(struct planner *pl, const struct worker_apt_candidate *c,
                          const struct clause *cl, struct queue *q)
{
    size_t blocked = SIZE_MAX;
    char text[512];

    for (size_t i = 0; i < cl->n; i++) {
        int r = try_installed(pl, &cl->alts[i], c->arch, q, &blocked);

        if (r == 0)
            r = try_candidates(pl, &cl->alts[i], c->arch, false, q, &blocked);
        if (r == 0)
            r = try_candidates(pl, &cl->alts[i], c->arch, true, q, &blocked);
        if (r < 0)
            return r;
        if (r > 0 && clause_satisfied(pl, cl, c->arch, true))
            return 0;
    }
    clause_text(cl, text, sizeof(text));
    if (blocked != SIZE_MAX)
        (void)pf_set_error(pl->errbuf, pl->errlen, 0,
                           "'%s' %s needs held package '%s:%s' to be upgraded to satisfy '%s'",
                           c->package, c->version, pl->st[blocked].name, pl->st[blocked].arch,
                           text);
    else
        (void)pf_set_error(pl->errbuf, pl->errlen, 0,
                           "'%s' %s depends on '%s', which no candidate satisfies", c->package,
                           c->version, text);
    return -EINVAL;
}

/* Checks and completes the Pre-Depends and Depends of the candidate of entry i. */
static int process_entry(struct planner *pl, size_t i, struct queue *q)
{
    const struct worker_apt_candidate *c = pl->st[i].cand;
    const char *fields[2] = {c->pre_depends, c->depends};

    for (size_t f = 0; f < 2; f++) {
        struct deps d = {0};
        int r = parse_deps(fields[f], &d);

        if (r == -EINVAL)
            (void)pf_set_error(pl->errbuf, pl->errlen, 0, "'%s' %s has a malformed %s field",
                               c->package, c->version, f == 0 ? "Pre-Depends" : "Depends");
        for (size_t k = 0; k < d.n && r == 0; k++) {
            bool ok = clause_satisfied(pl, &d.v[k], c->arch, true);

            if (!ok)
                r = tolerated(pl, &pl->st[i], &d.v[k], &ok);
            if (r == 0 && !ok)
                r = resolve_clause(pl, c, &d.v[k], q);
        }
        deps_clear(&d);
        if (r < 0)
            return r;
    }
    return 0;
}

static int item_cmp(const void *pa, const void *pb)
{
    const struct worker_apt_plan_item *a = pa, *b = pb;
    int r = strcmp(a->candidate->package, b->candidate->package);

    return r != 0 ? r : strcmp(a->candidate->arch, b->candidate->arch);
}

static int collect_items(const struct planner *pl, struct worker_apt_plan *p)
{
    size_t n = 0;

    for (size_t i = 0; i < pl->n; i++)
        n += pl->st[i].cand != NULL;
    p->items = pf_calloc(n + 1, sizeof(*p->items));
    if (!p->items)
        return -ENOMEM;
    for (size_t i = 0; i < pl->n; i++) {
        if (!pl->st[i].cand)
            continue;
        p->items[p->n].installed = pl->st[i].installed;
        p->items[p->n].candidate = pl->st[i].cand;
        p->n++;
    }
    qsort(p->items, p->n, sizeof(*p->items), item_cmp);
    return 0;
}

int worker_apt_plan_build(const struct worker_dpkg_db *db, const struct worker_apt_index *idx,
                          const char *native_arch, struct worker_apt_plan *ret, char *errbuf,
                          size_t errlen)
{
    struct planner pl = {.idx = idx, .native = native_arch, .errbuf = errbuf, .errlen = errlen};
    struct worker_apt_plan p = WORKER_APT_PLAN_INIT;
    struct queue q = {0};
    int r = 0;

    for (size_t i = 0; i < db->n && r == 0; i++)
        if (db->pkgs[i]->installed)
            r = add_entry(&pl, db->pkgs[i], NULL);
    if (r == 0)
        r = choose_upgrades(&pl, &p.held);
    for (size_t i = 0; i < pl.n && r == 0; i++)
        if (pl.st[i].cand)
            r = queue_push(&q, i);
    for (size_t k = 0; k < q.n && r == 0; k++)
        r = process_entry(&pl, q.v[k], &q);
    if (r == 0)
        r = collect_items(&pl, &p);
    if (r == -ENOMEM)
        (void)pf_set_error(errbuf, errlen, 0, "out of memory while planning upgrades");
    if (r < 0) {
        worker_apt_plan_release(&p);
    } else {
        r = (int)p.n;
        *ret = p;
    }
    pf_free(pl.st);
    pf_free(q.v);
    return r;
}

void worker_apt_plan_release(struct worker_apt_plan *p)
{
    if (!p)
        return;
    pf_free(p->items);
    pf_strv_clear(&p->held);
    p->items = NULL;
    p->n = 0;
}
