"""Plotly figures of a robot's morphology (pure functions of a Morphology)."""

from __future__ import annotations

import networkx as nx
import numpy as np
import plotly.graph_objects as go

from workbench.envs.layout import CONTEXT
from workbench.morphology import Morphology, context_features


def limb_tree(morphology: Morphology) -> nx.DiGraph:
    """The body tree: one node per body name, an edge from parent to child."""
    graph = nx.DiGraph()
    graph.add_node(morphology.body_names()[0])
    for limb in morphology.limbs:
        graph.add_edge(limb.parent_name, limb.name)
    return graph


def _tree_layout(graph: nx.DiGraph, root: str) -> dict[str, tuple[float, float]]:
    """Layered layout: depth on the y axis, leaves spread evenly on the x axis."""
    positions: dict[str, tuple[float, float]] = {}
    next_leaf_x = [0.0]

    def place(node: str, depth: int) -> float:
        children = list(graph.successors(node))
        if children:
            xs = [place(child, depth + 1) for child in children]
            x = float(np.mean(xs))
        else:
            x = next_leaf_x[0]
            next_leaf_x[0] += 1.0
        positions[node] = (x, -float(depth))
        return x

    place(root, 0)
    return positions


def limb_tree_figure(morphology: Morphology) -> go.Figure:
    """The limb tree drawn as a graph; hovering a node shows its joints and gears."""
    graph = limb_tree(morphology)
    root = morphology.body_names()[0]
    positions = _tree_layout(graph, root)
    edge_x: list[float | None] = []
    edge_y: list[float | None] = []
    for parent, child in graph.edges:
        edge_x += [positions[parent][0], positions[child][0], None]
        edge_y += [positions[parent][1], positions[child][1], None]
    joints_of = {limb.name: limb for limb in morphology.limbs}
    hover = []
    for node in graph.nodes:
        limb = joints_of.get(node)
        if limb is None:
            hover.append(f"{node}<br>torso")
        else:
            joints = ", ".join(f"{name} gear {joint.gear:g}" for name, joint in limb.joints)
            hover.append(f"{node}<br>length {limb.length:.2f} m<br>{joints}")
    nodes = list(graph.nodes)
    figure = go.Figure()
    figure.add_trace(go.Scatter(x=edge_x, y=edge_y, mode="lines", line={"color": "#888"}, hoverinfo="skip"))
    figure.add_trace(
        go.Scatter(
            x=[positions[n][0] for n in nodes],
            y=[positions[n][1] for n in nodes],
            mode="markers+text",
            text=nodes,
            textposition="top center",
            hovertext=hover,
            hoverinfo="text",
            marker={"size": 18, "color": ["#d62728" if n == root else "#1f77b4" for n in nodes]},
        )
    )
    figure.update_layout(
        showlegend=False,
        height=360,
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        title="Limb tree (depth-first order = observation slots)",
        xaxis={"visible": False},
        yaxis={"visible": False},
    )
    return figure


def context_heatmap_figure(morphology: Morphology, position: str = "absolute") -> go.Figure:
    """The (12, 53) context features as a heatmap: rows are limb slots, columns named fields."""
    features = context_features(morphology, position=position)
    column_names = [
        f"{name}[{i}]" if width > 1 else name for name, width in CONTEXT.fields for i in range(width)
    ]
    names = morphology.body_names()
    row_names = [names[i] if i < len(names) else f"(pad {i})" for i in range(features.shape[0])]
    figure = go.Figure(
        go.Heatmap(z=features, x=column_names, y=row_names, colorscale="RdBu", zmid=0.0, zmin=-1.0, zmax=1.0)
    )
    figure.update_layout(
        height=420,
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        title=f"Context features ({position} positions), 12 slots x 53 values",
        yaxis={"autorange": "reversed"},
    )
    return figure
