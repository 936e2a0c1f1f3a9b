"""Positions, not persons (组织机构): the leading group and its office, holders, handovers, duties."""
