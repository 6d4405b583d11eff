"""The place: areas, stations, posts, sensors and the path network of one scenario."""
