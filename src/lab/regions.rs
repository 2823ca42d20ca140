//! Region profiles (auckland, sydney) scaled from the original project's published figures.
