#!/usr/bin/env python3
# include_loops.py - loops in the include graph of a folder (default host/):
# between files (x.c, x.h and x_priv.h are one node) and between the
# folders below it.  docs/ARCHITECTURE.md says which loop may remain.
#
#   python3 tools/include_loops.py [DIR]
import os,re,sys,collections
root=sys.argv[1] if len(sys.argv)>1 else 'host'
nodes={}; edges=collections.defaultdict(set)
def node(path):
    base=re.sub(r'\.(c|h)$','',path)
    base=re.sub(r'_priv$','',base)
    return base
for d,_,fs in os.walk(root):
    for f in fs:
        if not f.endswith(('.c','.h')): continue
        p=os.path.join(d,f); n=node(p)
        for line in open(p):
            m=re.match(r'#include "((host)/[^"]+)"',line)
            if m:
                t=node(m.group(1))
                if t!=n: edges[n].add(t)
def sccs(g):
    idx={};low={};st=[];on=set();res=[];c=[0]
    def sc(v):
        idx[v]=low[v]=c[0];c[0]+=1;st.append(v);on.add(v)
        for w in g.get(v,()):
            if w not in idx: sc(w); low[v]=min(low[v],low[w])
            elif w in on: low[v]=min(low[v],idx[w])
        if low[v]==idx[v]:
            comp=[]
            while True:
                w=st.pop();on.discard(w);comp.append(w)
                if w==v: break
            if len(comp)>1: res.append(sorted(comp))
    for v in list(g): 
        if v not in idx: sc(v)
    return res
print("file-level loops:")
for c in sccs(edges): print("  ",c)
mod=lambda n: n.split('/')[1] if n.count('/')>=2 else 'host-root:'+n.split('/')[-1]
medges=collections.defaultdict(set)
for a,bs in edges.items():
    for b in bs:
        if mod(a)!=mod(b): medges[mod(a)].add(mod(b))
print("folder-level loops:")
for c in sccs(medges): print("  ",c)
for m in sorted(medges): print("  ",m,"->",sorted(medges[m]))
